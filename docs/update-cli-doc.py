#!/usr/bin/env python3
"""Keeps docs/cli.md true to the built eiview-cli.

    docs/update-cli-doc.py BUILD/app/eiview-cli           refresh the quoted help texts
    docs/update-cli-doc.py --check BUILD/app/eiview-cli   fail when the page is out of date

The page quotes `eiview-cli --help` and, in one section "## `eiview-cli COMMAND`" per
command, `eiview-cli COMMAND --help`, each in the ```text block after a line
`<!-- generated: eiview-cli [COMMAND] --help -->`. Refreshing replaces those blocks and
adds a section (help block only) for a command the page lacks; its prose is written by
hand. --check (the CTest test cli_doc) fails when a command has no section, a section
names a command that does not exist, a quoted help differs from the program's, a
command's --help fails, or an option of a command is not explained in the section's prose.
"""
import pathlib
import re
import subprocess
import sys

DOC = pathlib.Path(__file__).resolve().parent / "cli.md"
BLOCK = re.compile(r"^<!-- generated: eiview-cli ?([a-z0-9-]*) --help -->\n```text\n(.*?)```$", re.M | re.S)
SECTION = re.compile(r"^## `eiview-cli ([a-z0-9-]+)`[ \t]*$", re.M)


def help_of(cli, command):
    args = [cli] + ([command] if command else []) + ["--help"]
    run = subprocess.run(args, capture_output=True, text=True, check=False, timeout=60)
    text = "\n".join(line.rstrip() for line in run.stdout.strip("\n").split("\n"))
    return run.returncode, text


def block(command, text):
    name = f"eiview-cli {command}".strip()
    return f"<!-- generated: {name} --help -->\n```text\n{text}\n```"


def commands_of(general_help):
    """The indented lines after "Commands:" in `eiview-cli --help`."""
    at = general_help.find("Commands:\n")
    names = []
    for line in general_help[at + 10:].split("\n") if at >= 0 else []:
        m = re.match(r"^  (\S+)\s", line)
        if not m:
            break
        names.append(m.group(1))
    return names


def sections_of(doc):
    """{command: text of its section}, each section ending at the next "## " heading."""
    heads = [m for m in re.finditer(r"^## .*$", doc, re.M)]
    out = {}
    for i, h in enumerate(heads):
        m = SECTION.match(h.group(0))
        if m:
            end = heads[i + 1].start() if i + 1 < len(heads) else len(doc)
            out[m.group(1)] = doc[h.end():end]
    return out


def check(cli, doc):
    problems = []
    rc, general = help_of(cli, "")
    commands = commands_of(general)
    if rc != 0 or not commands:
        return [f"`{cli} --help` failed or listed no commands"]
    quoted = {m.group(1): m.group(2).rstrip("\n") for m in BLOCK.finditer(doc)}
    if quoted.get("") != general:
        problems.append("the quoted `eiview-cli --help` differs from the program's")
    sections = sections_of(doc)
    for c in commands:
        if c not in sections:
            problems.append(f"no section \"## `eiview-cli {c}`\" for the command {c}")
            continue
        rc, text = help_of(cli, c)
        if rc != 0 or not text:
            problems.append(f"`eiview-cli {c} --help` exits with {rc} or prints nothing")
            continue
        if quoted.get(c) != text:
            problems.append(f"the quoted `eiview-cli {c} --help` differs from the program's:\n{text}")
        prose = BLOCK.sub("", sections[c])
        for option in sorted(set(re.findall(r"--[a-z][a-z0-9-]*", text)) - {"--help"}):
            if not re.search(re.escape(option) + r"(?![a-z0-9-])", prose):
                problems.append(f"the section of {c} does not explain {option}")
    for s in sections:
        if s not in commands:
            problems.append(f"a section documents `eiview-cli {s}`, which `eiview-cli --help` does not list")
    return problems


def self_test():
    """The parsers on known text, so that an empty match cannot pass silently."""
    assert commands_of("x\n\nCommands:\n  info            one\n  make-synthetic  two\n\nExit") == ["info", "make-synthetic"]
    doc = ("# t\n" + block("", "G") + "\n## `eiview-cli info`\nprose --json\n" + block("info", "A --json\n  B")
           + "\n## Exit codes\nz\n")
    assert list(sections_of(doc)) == ["info"] and "Exit codes" not in sections_of(doc)["info"]
    assert {m.group(1): m.group(2).rstrip("\n") for m in BLOCK.finditer(doc)} == {"": "G", "info": "A --json\n  B"}
    assert "--json" not in BLOCK.sub("", "x\n" + block("info", "--json")) + "x"


def main():
    args = sys.argv[1:]
    checking = args[:1] == ["--check"]
    args = args[1:] if checking else args
    if len(args) != 1:
        sys.exit(__doc__)
    cli = args[0]
    doc = DOC.read_text()
    if checking:
        self_test()
        problems = check(cli, doc)
        for p in problems:
            print(f"docs/cli.md: {p}", file=sys.stderr)
        if problems:
            print("refresh the help blocks with docs/update-cli-doc.py and write the missing prose", file=sys.stderr)
            sys.exit(1)
        print(f"docs/cli.md matches {cli}")
        return
    doc = BLOCK.sub(lambda m: block(m.group(1), help_of(cli, m.group(1))[1]), doc)
    for command in commands_of(help_of(cli, "")[1]):
        if f"## `eiview-cli {command}`" not in doc:
            doc = doc.rstrip("\n") + f"\n\n## `eiview-cli {command}`\n\n{block(command, help_of(cli, command)[1])}\n"
            print(f"added a section for {command}: describe its options", file=sys.stderr)
    DOC.write_text(doc)


if __name__ == "__main__":
    main()
