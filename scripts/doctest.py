#!/usr/bin/env python3
"""Runs the commands shown in tp-mlir's Markdown docs and compares their output.

    scripts/doctest.py [--build DIR] [--work DIR] [-v] [FILE.md ...]

With no files: every README.md of the repository (the top level's,
runtime/, bench/, ...; not in build trees or hidden folders) and every
docs/**/*.md except the generated docs/reference/. The convention (also in
docs/README.md, "Docs are tests"):

Which blocks run
  ```sh / ```bash / ```shell / ```console   commands: every line is run (a
      trailing backslash continues it; blank and comment lines are skipped).
      Lines starting with "$ " make the block a transcript: the text after
      "$ " is the command, the lines up to the next "$ " are its output.
  ``` (no language) starting with "$ "       a transcript.
  ```cpp / ```c++                            compiled (syntax only) with the
      build's include directories; it must be a whole translation unit.
  anything else (mlir, json, cmake, text, ...)  not run, unless a directive
      says it is the output of a command or an excerpt of a file.
  ``` (no language) showing commands         an error, unless it is a synopsis:
      a block whose first word is a command (found on PATH, build/bin first,
      or an executable or script of the repository) must say what it is:
      ```sh (it runs; skip=REASON where it cannot) or ```text (not run).
      A synopsis (a command with [options] in brackets) is checked instead:
      every --flag it shows must appear in its tool's --help.
  A here-document (<<'EOF' ... EOF) belongs to the command that opens it.

Directives: an HTML comment on the line(s) just before the opening fence,
  <!-- doctest: KEY[=VALUE] ... -->   (values in shell quoting)
  skip=REASON      do not run or compare this block; the reason is required
                   (e.g. it needs torch-mlir or a GPU) and is listed by -v.
  output           this block is the whole output of the last command run
                   before it (in this file).
  excerpt          this block's lines appear, in this order, in the output of
                   the last command run before it (other lines may come
                   between them).
  excerpt=FILE     the same, in FILE (relative to the repository root).
  reflow           with output or excerpt: compare running text, so that a
                   long output line may be shown wrapped: line breaks count
                   as spaces, and the text is contiguous except where "..."
                   stands (an excerpt may start and end anywhere).
  exit=N           the commands of this block exit with N (default 0).
  vary=REGEX       text matching REGEX (Python syntax) differs between runs
                   (a measured time, a rounding error): it is compared as a
                   placeholder; repeatable. Durations ("0.377 s", "12.5 ms")
                   always vary.
  timeout=S        seconds each command of the block may take (default 300).
  requires=F[,G]   run the block only where the build has these features
                   (--feature: mpi, cuda, tp_plugin, graphviz); skipped otherwise, and
                   so is an output or excerpt block right after it.

Comparing output: trailing spaces are ignored and every run of spaces
compares equal to one space (so columns may be shortened); "..." inside a line
matches any text; a line that is only "..." matches any number of lines
(including none).

Each file runs in its own scratch folder (under --work): a view of the
repository (links to its top-level entries), with "build" linked to the build
tree and build/bin first on PATH, HOME set to a fresh folder inside it. Files
a command writes stay there for the commands after it. stdout and stderr are
compared together, in the order they were written.

Exit code: 0 when every command ran with its expected exit code and every
compared output matched; 1 otherwise (each failure is printed with the
file, the line of its block and a comparison); 2 for bad usage or a
malformed directive.
"""

import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

COMMAND_LANGS = {"sh", "bash", "shell", "console"}
CPP_LANGS = {"cpp", "c++"}
DURATION = r"\d+(?:\.\d+)?\s?m?s\b"
DIRECTIVE = re.compile(r"^\s*<!--\s*doctest:(.*?)-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^`\s]*)")
PLACEHOLDER = "\x00"
RUNNING = set()  # process groups of the commands running now


def stop(signum, frame):
    """SIGINT/SIGTERM: end the running command's whole process group too."""
    for pgid in list(RUNNING):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
    sys.exit(128 + signum)


class DocError(Exception):
    """A malformed doc or directive (exit code 2)."""


class Block:
    def __init__(self, path, line, lang, lines, directive):
        self.path = path
        self.line = line  # 1-based line of the opening fence
        self.lang = lang
        self.lines = lines
        self.skip = None
        self.mode = None  # None, "output", "excerpt"
        self.excerpt_file = None
        self.reflow = False
        self.exit = 0
        self.vary = [DURATION]
        self.timeout = 300.0
        self.requires = []
        self.parse_directive(directive)

    def where(self):
        return "%s:%d" % (self.path, self.line)

    def parse_directive(self, text):
        if text is None:
            return
        try:
            words = shlex.split(text)
        except ValueError as e:
            raise DocError("%s: bad doctest directive: %s" % (self.where(), e))
        for word in words:
            key, eq, value = word.partition("=")
            if key == "skip":
                if not value:
                    raise DocError("%s: skip needs a reason (skip=\"...\")"
                                   % self.where())
                self.skip = value
            elif key == "output" and not eq:
                self.mode = "output"
            elif key == "excerpt":
                self.mode = "excerpt"
                self.excerpt_file = value or None
            elif key == "reflow" and not eq:
                self.reflow = True
            elif key == "exit" and value.lstrip("-").isdigit():
                self.exit = int(value)
            elif key == "vary" and value:
                try:
                    re.compile(value)
                except re.error as e:
                    raise DocError("%s: bad vary regex %r: %s"
                                   % (self.where(), value, e))
                self.vary.append(value)
            elif key == "requires" and value:
                self.requires += value.split(",")
            elif key == "timeout" and value:
                self.timeout = float(value)
            else:
                raise DocError("%s: unknown doctest directive %r (known: skip=REASON, "
                               "output, excerpt[=FILE], reflow, exit=N, vary=REGEX, requires=F, timeout=S)"
                               % (self.where(), word))

    def kind(self):
        """'commands', 'transcript', 'cpp', 'output', 'excerpt' or None."""
        if self.mode:
            return self.mode
        first = next((l for l in self.lines if l.strip()), "")
        if self.lang in COMMAND_LANGS or (not self.lang and first.startswith("$ ")):
            if any(l.startswith("$ ") for l in self.lines):
                return "transcript"
            return "commands" if self.lang else None
        if self.lang in CPP_LANGS:
            return "cpp"
        return None


def parse_blocks(path, text):
    lines = text.split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = m.group(1), m.group(2), m.group(3).lower()
        start = i
        # The directive: the comment right above the fence (blank lines between
        # are not allowed, so that a directive cannot drift off its block).
        directive = None
        if start > 0:
            d = DIRECTIVE.match(lines[start - 1])
            if d:
                directive = d.group(1)
            elif "doctest:" in lines[start - 1]:
                raise DocError("%s:%d: a doctest directive must be one line "
                               "<!-- doctest: ... -->" % (path, start))
        body = []
        i += 1
        while i < len(lines) and not (
                lines[i].strip().startswith(fence[0] * len(fence))
                and lines[i].strip().strip(fence[0]) == ""):
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        if i == len(lines):
            raise DocError("%s:%d: unclosed code block" % (path, start + 1))
        i += 1
        blocks.append(Block(path, start + 1, lang, body, directive))
    return blocks


HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1")


def join_continuations(lines):
    """Lines of a command block to commands (backslash continuations joined,
    a here-document kept with its command)."""
    commands, current, heredoc = [], "", None
    for line in lines:
        if heredoc is not None:
            current += line + "\n"
            if line.strip() == heredoc:
                commands.append(current.rstrip("\n"))
                current, heredoc = "", None
            continue
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        m = HEREDOC.search(line)
        if m:
            current += line + "\n"
            heredoc = m.group(2)
            continue
        commands.append(current + line)
        current = ""
    if current:
        commands.append(current)
    return commands


def split_transcript(lines):
    """A transcript to [(command, [expected output lines])]."""
    items = []
    pending = None
    for line in lines:
        if pending is not None:
            pending += line.rstrip()[:-1] + " " if line.rstrip().endswith("\\") else line
            if not line.rstrip().endswith("\\"):
                items.append((pending, []))
                pending = None
            continue
        if line.startswith("$ "):
            cmd = line[2:]
            if cmd.rstrip().endswith("\\"):
                pending = cmd.rstrip()[:-1] + " "
            else:
                items.append((cmd, []))
        elif items:
            items[-1][1].append(line)
    while items and items[-1][1] and not items[-1][1][-1].strip():
        items[-1][1].pop()
    return items


def normalize(line, vary):
    for pattern in vary:
        line = re.sub(pattern, PLACEHOLDER, line)
    return " ".join(line.split())


def line_regex(line, vary):
    pieces = normalize(line, vary).split("...")
    return re.compile("^" + ".*".join(re.escape(p) for p in pieces) + "$")


def match_text(expected, actual, vary, excerpt):
    """The reflow comparison: running text, "..." the only gaps."""
    wanted = normalize(" ".join(expected), vary)
    text = normalize(" ".join(actual), vary)
    pattern = ".*?".join(re.escape(p.strip()) for p in wanted.split("..."))
    pattern = pattern.replace("\\ ", "\\s*")
    if excerpt:
        return re.search(pattern, text, re.S) is not None
    return re.fullmatch(pattern, text, re.S) is not None


def match_lines(expected, actual, vary, excerpt):
    """Whether the actual lines match the expected ones (see the docstring)."""
    items = []
    for line in expected:
        if line.strip() == "...":
            if not items or items[-1] is not None:
                items.append(None)
        else:
            items.append(line_regex(line, vary))
    if excerpt:
        gapped = [None]
        for item in items:
            if item is not None:
                gapped += [item, None]
        items = gapped
    # Blank lines at the ends of the output are not compared.
    actual = [normalize(l, vary) for l in actual]
    while actual and not actual[-1]:
        actual.pop()
    while items and items[-1] is not None and items[-1].pattern == "^$":
        items.pop()

    memo = {}

    def go(i, j):
        key = (i, j)
        if key in memo:
            return memo[key]
        if i == len(items):
            result = j == len(actual)
        elif items[i] is None:
            result = any(go(i + 1, k) for k in range(j, len(actual) + 1))
        else:
            result = j < len(actual) and bool(items[i].match(actual[j])) and go(i + 1, j + 1)
        memo[key] = result
        return result

    sys.setrecursionlimit(max(10000, 4 * (len(items) + len(actual)) + 100))
    return go(0, 0)


class Session:
    """One doc file's scratch folder and the output of its last command."""

    def __init__(self, args, doc, work):
        self.args = args
        self.doc = doc
        self.dir = work
        os.makedirs(self.dir)
        src = args.src
        for name in os.listdir(src):
            if name in ("build", ".git"):
                continue
            os.symlink(os.path.join(src, name), os.path.join(self.dir, name))
        os.symlink(args.build, os.path.join(self.dir, "build"))
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.home)
        self.env = dict(os.environ)
        self.env["PATH"] = os.path.join(args.build, "bin") + os.pathsep + self.env.get("PATH", "")
        self.env["HOME"] = self.home
        self.last = None  # (command, output lines, where)

    def run(self, command, block):
        start = time.time()
        # Its own process group, so that a timeout ends everything it started.
        proc = subprocess.Popen(["bash", "-o", "pipefail", "-c", command], cwd=self.dir,
                                env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        RUNNING.add(proc.pid)
        try:
            out, _ = proc.communicate(timeout=block.timeout)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            code = None
        RUNNING.discard(proc.pid)
        output = out.decode("utf-8", "replace")
        elapsed = time.time() - start
        lines = output.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        self.last = (command, lines, block.where())
        if self.args.verbose:
            print("  ran (%.1f s): %s" % (elapsed, command))
        return code, lines


class Runner:
    def __init__(self, args):
        self.args = args
        self.failures = []
        self.counts = {"commands": 0, "compared": 0, "compiled": 0, "synopses": 0,
                       "skipped": 0}
        self.skips = []

    def fail(self, block, message, expected=None, actual=None):
        text = "%s: %s" % (block.where(), message)
        if expected is not None:
            text += "\n  shown in the doc:\n" + "\n".join("    | " + l for l in expected)
        if actual is not None:
            shown = actual if len(actual) <= 80 else actual[:40] + ["... (%d lines)" % len(actual)] + actual[-20:]
            text += "\n  actual output:\n" + "\n".join("    | " + l for l in shown)
        self.failures.append(text)
        print("FAIL " + text)

    def check_exit(self, block, command, code, lines):
        if code is None:
            self.fail(block, "timed out after %g s: %s" % (block.timeout, command),
                      actual=lines)
            return False
        if code != block.exit:
            self.fail(block, "exit code %d (expected %d): %s" % (code, block.exit, command),
                      actual=lines)
            return False
        return True

    def run_doc(self, doc, work):
        rel = os.path.relpath(doc, self.args.src)
        with open(doc, encoding="utf-8") as f:
            blocks = parse_blocks(rel, f.read())
        session = None
        skipped_last = False
        for block in blocks:
            kind = block.kind()
            missing = [f for f in block.requires if f not in self.args.feature]
            if missing and block.skip is None:
                block.skip = "needs %s" % ", ".join(missing)
            elif (kind in ("output", "excerpt") and not block.excerpt_file and skipped_last
                  and block.skip is None):
                block.skip = "the command before it was skipped"
            if kind or block.lang in COMMAND_LANGS | CPP_LANGS:
                skipped_last = block.skip is not None
            if block.skip is not None:
                if kind or block.lang in COMMAND_LANGS | CPP_LANGS:
                    self.counts["skipped"] += 1
                    self.skips.append("%s: %s" % (block.where(), block.skip))
                continue
            if kind is None:
                if not block.lang and not block.mode:
                    session = self.check_unlabelled(block, session, rel, work)
                continue
            if session is None and kind in ("commands", "transcript", "output", "excerpt"):
                session = Session(self.args, rel, os.path.join(work, rel.replace(os.sep, "_")))
            if kind == "commands":
                for command in join_continuations(block.lines):
                    self.counts["commands"] += 1
                    code, lines = session.run(command, block)
                    self.check_exit(block, command, code, lines)
            elif kind == "transcript":
                for command, expected in split_transcript(block.lines):
                    self.counts["commands"] += 1
                    code, lines = session.run(command, block)
                    if not self.check_exit(block, command, code, lines):
                        continue
                    if expected:
                        self.compare(block, expected, lines, excerpt=False, what=command)
            elif kind in ("output", "excerpt"):
                if block.excerpt_file:
                    path = os.path.join(self.args.src, block.excerpt_file)
                    try:
                        with open(path, encoding="utf-8") as f:
                            lines = f.read().split("\n")
                    except OSError as e:
                        self.fail(block, "cannot read %s: %s" % (block.excerpt_file, e.strerror))
                        continue
                    what = block.excerpt_file
                elif session.last is None:
                    self.fail(block, "an %s block with no command before it" % kind)
                    continue
                else:
                    what, lines, _ = session.last
                self.compare(block, block.lines, lines, excerpt=(kind == "excerpt"), what=what)
            elif kind == "cpp":
                self.compile(block, work)

    def tool_path(self, word):
        """The program a doc's first word names, if it is one: a file of the
        repository (executable, or a .py/.sh script), a build tree path, or a
        program on PATH (build/bin first). None for anything else."""
        if not word or word.endswith(":") or word.startswith(("#", "-", "<", "[")):
            return None
        if word.startswith("build/"):
            path = os.path.join(self.args.build, word[len("build/"):])
            return path if os.path.isfile(path) else None
        if "/" in word:
            path = os.path.join(self.args.src, word)
            if os.path.isfile(path) and (os.access(path, os.X_OK)
                                         or word.endswith((".py", ".sh"))):
                return path
            return None
        search = os.path.join(self.args.build, "bin") + os.pathsep + os.environ.get("PATH", "")
        return shutil.which(word, path=search)

    def project_tool(self, word):
        """Like tool_path, but only our own programs (build tree, repository),
        whose --help a synopsis is checked against."""
        path = self.tool_path(word)
        if path is None:
            return None
        path = os.path.realpath(path)
        for root in (self.args.src, self.args.build):
            if path.startswith(os.path.realpath(root) + os.sep):
                return path
        return None

    def check_unlabelled(self, block, session, rel, work):
        """An unlabelled block that shows commands: a synopsis is checked
        against its tools' --help; anything else must be labelled."""
        first = next((l for l in block.lines if l.strip()), "")
        words = first.split()
        if not words or self.tool_path(words[0]) is None:
            return session
        if not any(re.search(r"\[-", l) for l in block.lines):
            self.fail(block, "an unlabelled block shows commands (`%s`): label it ```sh "
                      "(it runs; <!-- doctest: skip=\"why\" --> where it cannot) or ```text "
                      "(shown, not run)" % first.strip())
            return session
        # A synopsis: each line's tool is its first word that is one of our
        # programs (so `mpiexec -n N tp-launch ...` is tp-launch's); a line
        # without one continues the one before.
        flags = {}  # tool word -> [flags in order]
        tool = None
        for line in block.lines:
            line = line.split(" #")[0]
            for word in line.split():
                if self.project_tool(word):
                    tool = word
                    break
            if tool is None:
                continue
            for flag in re.findall(r"(?<![\w-])--[A-Za-z][\w-]*", line):
                flags.setdefault(tool, [])
                if flag not in flags[tool]:
                    flags[tool].append(flag)
        if not flags:
            return session
        if session is None:
            session = Session(self.args, rel, os.path.join(work, rel.replace(os.sep, "_")))
        self.counts["synopses"] += 1
        for tool, shown in flags.items():
            command = shlex.quote(tool) + " --help"
            if tool.endswith(".py") and not os.access(self.tool_path(tool), os.X_OK):
                command = "python3 " + command
            proc = subprocess.run(["bash", "-c", command], cwd=session.dir, env=session.env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=block.timeout)
            text = proc.stdout.decode("utf-8", "replace")
            if self.args.verbose:
                print("  synopsis: %s (%d flags)" % (command, len(shown)))
            missing = [f for f in shown if not re.search(re.escape(f) + r"(?![\w-])", text)]
            if missing:
                self.fail(block, "the synopsis shows %s, which `%s` does not mention"
                          % (", ".join(missing), command), actual=text.split("\n"))
        return session

    def compare(self, block, expected, actual, excerpt, what):
        self.counts["compared"] += 1
        match = match_text if block.reflow else match_lines
        if not match(expected, actual, block.vary, excerpt):
            self.fail(block, "%s of `%s` differs from the doc" %
                      ("an excerpt" if excerpt else "the output", what), expected, actual)

    def compile(self, block, work):
        if not self.args.cxx:
            self.fail(block, "a C++ block, but no --cxx compiler was given")
            return
        self.counts["compiled"] += 1
        fd, path = tempfile.mkstemp(suffix=".cpp", dir=work)
        with os.fdopen(fd, "w") as f:
            f.write("#line %d \"%s\"\n" % (block.line + 1, block.path))
            f.write("\n".join(block.lines) + "\n")
        cmd = [self.args.cxx, "-fsyntax-only", "-std=c++17"] + self.args.cxx_flag + [path]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              env=dict(os.environ, LC_ALL="C"))
        if proc.returncode != 0:
            self.fail(block, "the C++ block does not compile (%s)" % " ".join(cmd),
                      actual=proc.stdout.decode("utf-8", "replace").split("\n")[:60])


def default_docs(src):
    """README.md, docs/**/*.md (not docs/reference), then every other README.md
    of the tree (not in hidden folders, build trees or virtual environments)."""
    docs = [os.path.join(src, "README.md")]
    for root, dirs, files in os.walk(os.path.join(src, "docs")):
        dirs[:] = sorted(d for d in dirs if d != "reference")
        docs += [os.path.join(root, f) for f in sorted(files) if f.endswith(".md")]
    others = []
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".")
            and not os.path.islink(os.path.join(root, d))
            and not os.path.exists(os.path.join(root, d, "CMakeCache.txt"))
            and not os.path.exists(os.path.join(root, d, "pyvenv.cfg"))
            and os.path.join(root, d) != os.path.join(src, "docs"))
        if root != src and "README.md" in files:
            others.append(os.path.join(root, "README.md"))
    return docs + sorted(others)


def main():
    here = os.path.dirname(os.path.realpath(__file__))
    parser = argparse.ArgumentParser(
        description="Run the commands shown in the docs and compare their output "
                    "(the convention: docs/README.md, \"Docs are tests\").")
    parser.add_argument("docs", nargs="*", help="Markdown files (default: README.md, docs/**/*.md "
                        "except docs/reference)")
    parser.add_argument("--src", default=os.path.dirname(here), help="repository root")
    parser.add_argument("--build", help="build tree (default: SRC/build)")
    parser.add_argument("--work", help="scratch folder, emptied first and removed when "
                        "everything passed (default: a new temporary one)")
    parser.add_argument("--cxx", help="C++ compiler for ```cpp blocks")
    parser.add_argument("--cxx-flag", action="append", default=[],
                        help="a flag for the C++ compiler (repeatable)")
    parser.add_argument("--feature", action="append", default=[],
                        help="a feature of the build for requires= (mpi, cuda, tp_plugin, graphviz)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print each command and every skipped block with its reason")
    args = parser.parse_args()
    args.src = os.path.realpath(args.src)
    args.build = os.path.abspath(args.build or os.path.join(args.src, "build"))
    if not os.path.isdir(os.path.join(args.build, "bin")):
        print("doctest: %s has no bin/ folder: build first (scripts/build.sh)" % args.build,
              file=sys.stderr)
        return 2
    docs = [os.path.realpath(d) for d in args.docs] or default_docs(args.src)
    work = os.path.abspath(args.work or tempfile.mkdtemp(prefix="tp-doctest."))
    marker = os.path.join(work, ".tp-doctest")
    if args.work and os.path.isdir(work) and os.listdir(work) and not os.path.exists(marker):
        # Only a folder the doc test made is emptied (never a user's by mistake).
        print("doctest: --work %s is not empty and not a doc test's scratch folder" % work,
              file=sys.stderr)
        return 2
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    open(marker, "w").close()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    runner = Runner(args)
    try:
        for doc in docs:
            if args.verbose:
                print("doctest: %s" % os.path.relpath(doc, args.src))
            runner.run_doc(doc, work)
    except DocError as e:
        print("doctest: error: %s" % e, file=sys.stderr)
        return 2
    except OSError as e:
        print("doctest: error: %s" % e, file=sys.stderr)
        return 2
    c = runner.counts
    if args.verbose:
        for skip in runner.skips:
            print("skipped %s" % skip)
    print("doctest: %d file(s), %d command(s) run, %d output(s) compared, %d C++ block(s) "
          "compiled, %d synopsis block(s) checked, %d block(s) skipped, %d failure(s)"
          % (len(docs), c["commands"], c["compared"], c["compiled"], c["synopses"],
             c["skipped"], len(runner.failures)))
    if runner.failures:
        print("doctest: scratch files kept in %s" % work)
        return 1
    shutil.rmtree(work, ignore_errors=True)  # kept only when something failed
    return 0


if __name__ == "__main__":
    sys.exit(main())
