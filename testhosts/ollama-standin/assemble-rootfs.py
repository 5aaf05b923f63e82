#!/usr/bin/python3
"""Assembles the stand-in image's root file system from this machine's own files: Debian's python3 interpreter
with only the standard-library modules the stand-in imports, the shared libraries they link, busybox for a shell
and the usual tools, and the stand-in itself as /usr/bin/ollama. Run by build-image.sh with /usr/bin/python3 (the
interpreter copied is the one running this script).

    assemble-rootfs.py ROOTFS
"""

import compileall
import modulefinder
import os
import re
import shutil
import subprocess
import sys
import sysconfig

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = ["standin.py", "make-models.py"]
# Packages the stand-in never reaches at run time though a static scan of the standard library finds them.
EXCLUDES = ["asyncio", "multiprocessing", "unittest", "test", "lib2to3", "distutils", "pydoc", "pydoc_data",
            "xmlrpc", "xml", "ctypes", "concurrent", "doctest", "pdb", "ssl", "_ssl", "bz2", "_bz2", "lzma", "_lzma",
            "decimal", "_decimal", "_pydecimal", "readline", "tkinter", "idlelib", "sqlite3", "curses", "dbm",
            "importlib.metadata", "importlib.resources", "_testcapi", "_testinternalcapi", "tarfile", "zipfile",
            "ftplib", "http.cookiejar", "urllib.request", "webbrowser", "plistlib", "mmap", "_posixshmem",
            "_multiprocessing"]
# Looked up by name at run time (codecs, time.strptime), so no static scan sees them.
EXTRAS = ["site", "encodings", "encodings.utf_8", "encodings.utf_8_sig", "encodings.ascii", "encodings.latin_1",
          "encodings.idna", "encodings.punycode", "encodings.raw_unicode_escape", "encodings.unicode_escape", "_strptime"]
# busybox applets linked in /usr/bin: what a minimal distribution image offers (no HTTP client: the official
# Ollama image has none either, so a health check here must use `ollama` as it must there).
APPLETS = ["sh", "ash", "cat", "chmod", "chown", "cp", "cut", "date", "df", "dirname", "basename", "du", "echo", "env",
           "expr", "false", "find", "grep", "gzip", "head", "hostname", "id", "kill", "ln", "ls", "mkdir", "mktemp",
           "mv", "od", "printf", "ps", "pwd", "readlink", "rm", "rmdir", "sed", "sha256sum", "sleep", "sort", "stat",
           "tail", "tar", "tee", "test", "[", "touch", "tr", "true", "uname", "uniq", "wc", "which", "xargs"]


def copy_file(source, rootfs, target=None):
    """Copies source (following links) to the same path (or target) inside rootfs."""
    destination = os.path.join(rootfs, (target or source).lstrip("/"))
    os.makedirs(os.path.dirname(destination), exist_ok=True)
    if not os.path.exists(destination):
        shutil.copy2(os.path.realpath(source), destination)
    return destination


def copy_libraries(binary, rootfs):
    """Copies what ldd says binary links, under the paths the dynamic loader looks for."""
    output = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    for line in output.splitlines():
        match = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
        if match:
            copy_file(match.group(1), rootfs)


def main(rootfs):
    stdlib = sysconfig.get_paths()["stdlib"]
    dynload = os.path.join(stdlib, "lib-dynload")
    for folder in ("usr/bin", "usr/lib", "usr/lib64", "etc", "root", "var/tmp", "proc", "sys", "dev", "run"):
        os.makedirs(os.path.join(rootfs, folder), exist_ok=True)
    os.makedirs(os.path.join(rootfs, "tmp"), mode=0o1777, exist_ok=True)
    os.chmod(os.path.join(rootfs, "tmp"), 0o1777)
    for link, target in (("bin", "usr/bin"), ("sbin", "usr/bin"), ("lib", "usr/lib"), ("lib64", "usr/lib64")):
        if not os.path.lexists(os.path.join(rootfs, link)):
            os.symlink(target, os.path.join(rootfs, link))

    interpreter = os.path.realpath(sys.executable)
    python = f"python{sys.version_info.major}.{sys.version_info.minor}"
    copy_file(interpreter, rootfs, f"/usr/bin/{python}")
    os.symlink(python, os.path.join(rootfs, "usr/bin/python3"))
    copy_libraries(interpreter, rootfs)

    finder = modulefinder.ModuleFinder(path=[stdlib, dynload], excludes=EXCLUDES)
    for program in PROGRAMS:
        finder.run_script(os.path.join(HERE, program))
    for module in EXTRAS:
        finder.import_hook(module)
    for module in finder.modules.values():
        path = module.__file__
        if not path or not path.startswith(stdlib + "/"):
            continue
        copy_file(path, rootfs)
        if path.endswith(".so"):
            copy_libraries(path, rootfs)

    busybox = shutil.which("busybox")
    if not busybox:
        raise SystemExit("busybox is missing: apt-get install busybox")
    copy_file(busybox, rootfs, "/usr/bin/busybox")
    copy_libraries(busybox, rootfs)
    offered = set(subprocess.run([busybox, "--list"], capture_output=True, text=True).stdout.split())
    for applet in APPLETS:
        if applet in offered:
            os.symlink("busybox", os.path.join(rootfs, "usr/bin", applet))

    program_dir = os.path.join(rootfs, "usr/lib/ollama-standin")
    os.makedirs(program_dir, exist_ok=True)
    for program in PROGRAMS + ["README.md"]:
        shutil.copy2(os.path.join(HERE, program), program_dir)
    with open(os.path.join(rootfs, "usr/bin/ollama"), "w") as handle:
        handle.write("#!/usr/bin/python3\n# The Ollama STAND-IN's command (not Ollama): see /usr/lib/ollama-standin/README.md\n"
                     "import sys\nsys.path.insert(0, '/usr/lib/ollama-standin')\nimport standin\n"
                     "sys.exit(standin.cli(sys.argv[1:]))\n")
    os.chmod(os.path.join(rootfs, "usr/bin/ollama"), 0o755)
    for folder in (os.path.join(rootfs, stdlib.lstrip("/")), program_dir):
        if not compileall.compile_dir(folder, quiet=1, stripdir=rootfs, prependdir="/"):
            raise SystemExit(f"could not compile {folder}")

    files = {
        "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
        "etc/group": "root:x:0:\nnogroup:x:65534:\n",
        "etc/nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\n",
        "etc/os-release": 'PRETTY_NAME="Ollama stand-in for provision\'s tests (not Ollama)"\nNAME="ollama-standin"\n'
                          "ID=ollama-standin\n",
    }
    for path, text in files.items():
        with open(os.path.join(rootfs, path), "w") as handle:
            handle.write(text)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__.strip())
    main(sys.argv[1])
