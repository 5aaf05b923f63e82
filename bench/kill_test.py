#!/usr/bin/env python3
"""Issue 10 #1/#10, the long kill test: SIGKILL of provision, of its ssh client and of
the sshd session serving it, at random moments during a 30 MB copy and a 200-file
apply (50 kills of each by default), over ssh, and of provision over the local
connection. After each kill every target must be its old or its new content; the next
run must succeed, leave every target new and no temp file (.NAME.provision-XXXXXX).

    python3 bench/kill_test.py [--binary .build/release/provision] [--kills 50] [--size-mb 30] [--files 200]

The sshd is testhosts/sshd-up.sh's, in $PROVISION_TESTHOSTS_DIR (default /var/tmp/pth-transport)
on $PROVISION_BENCH_SSHD_PORT (default 22410); connections are not shared (ssh_args ""), so the
ssh client killed is the one carrying the session. Tests/.../TransportKillTests.swift is the
short version.
"""
import argparse, hashlib, os, random, shutil, signal, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRATCH = "/var/tmp/provision-kill-bench"


def sh(cmd):
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
    return res


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(entry))
        except (OSError, IndexError, ValueError):
            pass
    return found


def descendants(pid):
    result, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            result.append(child)
            todo.append(child)
    return result


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def digest(path):
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


class Scenario:
    def __init__(self, name, files, folder):
        self.name, self.folder = name, folder
        self.src, self.data = os.path.join(folder, "src"), os.path.join(folder, "data")
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(self.src)
        self.old, self.new = {}, {}
        for fname, size in files:
            self.old[fname] = os.urandom(size)
            self.new[fname] = os.urandom(size + 1000)
            with open(os.path.join(self.src, fname), "wb") as fh:
                fh.write(self.new[fname])
        self.digests = {f: (hashlib.sha256(self.old[f]).hexdigest(), hashlib.sha256(self.new[f]).hexdigest()) for f in self.old}
        self.play = os.path.join(folder, "play.yml")
        names = ", ".join(f'"{f}"' for f in sorted(self.old))
        with open(self.play, "w") as fh:
            fh.write(f"""- hosts: all
  gather_facts: false
  tasks:
    - copy: {{src: "{self.src}/{{{{ item }}}}", dest: "{self.data}/{{{{ item }}}}"}}
      loop: [{names}]
""")

    def reset(self):
        shutil.rmtree(self.data, ignore_errors=True)
        os.makedirs(self.data)
        for fname, content in self.old.items():
            with open(os.path.join(self.data, fname), "wb") as fh:
                fh.write(content)

    def states(self):
        """old / new / torn per file."""
        result = []
        for fname, (old, new) in self.digests.items():
            now = digest(os.path.join(self.data, fname))
            result.append("old" if now == old else "new" if now == new else "torn")
        return result

    def temporaries(self):
        return [f for f in os.listdir(self.data) if ".provision-" in f]


def run(binary, play, inventory):
    return subprocess.run([binary, "apply", play, "-i", inventory], capture_output=True, text=True)


def killed_run(binary, play, inventory, victim, delay, sshd_pid):
    proc = subprocess.Popen([binary, "apply", play, "-i", inventory], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    if victim == "provision":
        proc.send_signal(signal.SIGKILL)
    elif victim == "ssh client":
        for child in children(proc.pid):
            if comm(child) == "ssh":
                os.kill(child, signal.SIGKILL)
    else:  # the sshd processes serving the session, not the shell they run
        for pid in descendants(sshd_pid):
            if comm(pid).startswith("sshd"):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
    proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/provision"))
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--size-mb", type=int, default=30)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    random.seed(args.seed)
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"{args.binary} not found: run `swift build -c release` first")
    state = os.environ.setdefault("PROVISION_TESTHOSTS_DIR", "/var/tmp/pth-transport")
    port = os.environ.get("PROVISION_BENCH_SSHD_PORT", "22410")
    sshd = os.path.join(state, "sshd")
    sh([os.path.join(ROOT, "testhosts", "sshd-up.sh"), port])
    sshd_pid = int(open(os.path.join(sshd, "sshd.pid")).read().strip())
    os.makedirs(SCRATCH, exist_ok=True)
    inventories = {"local": os.path.join(SCRATCH, "local.ini"), "ssh": os.path.join(SCRATCH, "ssh.yml")}
    with open(inventories["local"], "w") as fh:
        fh.write("h ansible_connection=local\n")
    with open(inventories["ssh"], "w") as fh:
        fh.write(f"""all:
  hosts:
    h:
      ansible_host: 127.0.0.1
      ansible_port: {port}
      ansible_user: {os.environ.get("USER", "root")}
      ansible_ssh_private_key_file: {sshd}/id_ed25519
      ansible_ssh_common_args: -F /dev/null -o UserKnownHostsFile={sshd}/known_hosts -o IdentitiesOnly=yes
      ansible_ssh_args: ""
""")
    scenarios = [
        Scenario(f"{args.size_mb} MB copy", [("big", args.size_mb * 1_000_000)], os.path.join(SCRATCH, "big")),
        Scenario(f"{args.files}-file apply", [(f"f{i:03}", 16_000 + 37 * i) for i in range(args.files)], os.path.join(SCRATCH, "many")),
    ]
    rows = []
    for scenario in scenarios:
        for transport, victims in (("ssh", ["provision", "ssh client", "sshd session"]), ("local", ["provision"])):
            inventory = inventories[transport]
            scenario.reset()
            start = time.perf_counter()
            first = run(args.binary, scenario.play, inventory)
            duration = time.perf_counter() - start
            if first.returncode != 0:
                sys.exit(f"{scenario.name} over {transport}: a clean run failed\n{first.stdout[-2000:]}{first.stderr[-2000:]}")
            for victim in victims:
                counts = {"old": 0, "new": 0, "torn": 0, "mixed": 0, "left": 0, "failed": 0}
                for _ in range(args.kills):
                    scenario.reset()
                    killed_run(args.binary, scenario.play, inventory, victim, random.uniform(0.02, duration), sshd_pid)
                    states = scenario.states()
                    counts["torn"] += states.count("torn")
                    kinds = set(states) - {"torn"}
                    if len(kinds) > 1:
                        counts["mixed"] += 1
                    elif kinds:
                        counts[kinds.pop()] += 1
                    after = run(args.binary, scenario.play, inventory)
                    if after.returncode != 0 or scenario.states() != ["new"] * len(scenario.old):
                        counts["failed"] += 1
                    counts["left"] += len(scenario.temporaries())
                rows.append((scenario.name, transport, victim, duration, counts))
                c = counts
                print(f"  {scenario.name:15} {transport:5} {victim:12} {args.kills} kills: torn targets {c['torn']},"
                      f" temp files after the next run {c['left']}, next run failed {c['failed']}", file=sys.stderr)
    print(f"kill test: {args.kills} SIGKILLs each at a random moment of a clean run's duration")
    print(f"  {'scenario':15} {'conn':5} {'victim':12} {'run s':>6} {'kills':>5} {'torn':>5} {'temps left':>10}"
          f" {'next failed':>11}   after the kill: all old / all new / some of each")
    for name, transport, victim, duration, c in rows:
        print(f"  {name:15} {transport:5} {victim:12} {duration:6.2f} {args.kills:5} {c['torn']:5} {c['left']:10}"
              f" {c['failed']:11}   {c['old']} / {c['new']} / {c['mixed']}")
    print("must hold: torn 0 (every target old or new), temps left 0 and next failed 0")


if __name__ == "__main__":
    main()
