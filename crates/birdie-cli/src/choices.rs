//! The enumerated values of command-line options, as clap `ValueEnum`s (help lists them, a wrong value is refused with
//! the allowed ones), each mapping to the library type it selects. The libraries keep their own `FromStr` for config
//! files; these exist so the libraries need not depend on clap.

use clap::ValueEnum;

/// A model architecture (`birdie_models::Arch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArchChoice {
    Hawk,
    GatedSsm,
    Transformer,
    Toy,
}

impl ArchChoice {
    pub fn arch(self) -> birdie_models::Arch {
        use birdie_models::Arch;
        match self {
            ArchChoice::Hawk => Arch::Hawk,
            ArchChoice::GatedSsm => Arch::GatedSsm,
            ArchChoice::Transformer => Arch::Transformer,
            ArchChoice::Toy => Arch::Toy,
        }
    }

    /// The name config files use (`model.arch`).
    pub fn name(self) -> &'static str {
        match self {
            ArchChoice::Hawk => "hawk",
            ArchChoice::GatedSsm => "gated-ssm",
            ArchChoice::Transformer => "transformer",
            ArchChoice::Toy => "toy",
        }
    }
}

/// A model size preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SizePreset {
    Toy,
    Tiny,
    Small,
    Base,
    Paper,
}

impl SizePreset {
    /// `--preset`'s parser: a wrong name is refused with the models' own message, which lists the presets.
    pub fn parse(s: &str) -> Result<SizePreset, birdie_models::ModelError> {
        <SizePreset as ValueEnum>::from_str(s, false).map_err(|_| birdie_models::ModelError::UnknownPreset(s.into()))
    }

    /// The name config files use (`model.preset`).
    pub fn name(self) -> &'static str {
        match self {
            SizePreset::Toy => "toy",
            SizePreset::Tiny => "tiny",
            SizePreset::Small => "small",
            SizePreset::Base => "base",
            SizePreset::Paper => "paper",
        }
    }
}

/// Where an evaluation prompt goes (`birdie_eval::PromptStyle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PromptStyleChoice {
    /// The bidirectional prefix.
    Prefix,
    /// Teacher-forced after the start-of-generation token.
    Causal,
}

impl From<PromptStyleChoice> for birdie_eval::PromptStyle {
    fn from(c: PromptStyleChoice) -> Self {
        match c {
            PromptStyleChoice::Prefix => birdie_eval::PromptStyle::Prefix,
            PromptStyleChoice::Causal => birdie_eval::PromptStyle::Causal,
        }
    }
}

/// The phone-book prompt format (`birdie_eval::phonebook::PhonebookFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PhonebookFormatChoice {
    /// The paper's: question, book, question; several numbers.
    Multi,
    /// Book, two shots, `Name:`.
    Single,
}

impl From<PhonebookFormatChoice> for birdie_eval::phonebook::PhonebookFormat {
    fn from(c: PhonebookFormatChoice) -> Self {
        match c {
            PhonebookFormatChoice::Multi => Self::Multi,
            PhonebookFormatChoice::Single => Self::Single,
        }
    }
}

/// An input file format (`birdie_data::Format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatChoice {
    Txt,
    Jsonl,
    Parquet,
}

impl From<FormatChoice> for birdie_data::Format {
    fn from(c: FormatChoice) -> Self {
        match c {
            FormatChoice::Txt => Self::Txt,
            FormatChoice::Jsonl => Self::Jsonl,
            FormatChoice::Parquet => Self::Parquet,
        }
    }
}

/// How plain text is cut into documents (`birdie_data::TxtDocuments`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TxtDocumentsChoice {
    /// One document per file.
    File,
    /// A new document at every run of blank lines.
    BlankLines,
}

impl From<TxtDocumentsChoice> for birdie_data::TxtDocuments {
    fn from(c: TxtDocumentsChoice) -> Self {
        match c {
            TxtDocumentsChoice::File => Self::File,
            TxtDocumentsChoice::BlankLines => Self::BlankLines,
        }
    }
}

/// The controller simulation's synthetic training process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProcessChoice {
    /// The controller acceptance process over the birdie preset's first 15 arms.
    Birdie,
    /// One arm helps every arm, a tenth of the noise.
    OneBest,
}
