#!/usr/bin/env python3
"""The peer play (../shared/peerbench, podman-host.yml) converged locally, then
timed as a no-op run with provision, ansible-playbook and pyinfra in the same run.

    python3 bench/peer_local.py [--runs 7] [--binary .build/release/provision]

Copies the kit to /tmp/peerbench when it is not there (as its README says) and
creates its venv (ansible-core 2.19.14, pyinfra 3.10.0) when missing. Each tool
gets its own scratch root. Prints medians, ratios and provision's start-up time.
"""
import argparse, os, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KIT = "/tmp/peerbench"
SHARED_KIT = os.path.join(os.path.dirname(ROOT), "shared", "peerbench")


def sh(cmd, env=None, check=True):
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if check and res.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{res.stdout}\n{res.stderr}")
    return res


def timed(cmd, env, runs):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        sh(cmd, env)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), min(samples)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/provision"))
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"{args.binary} not found: run `swift build -c release --static-swift-stdlib` first")
    if not os.path.exists(KIT):
        if not os.path.exists(SHARED_KIT):
            sys.exit(f"no peer kit at {KIT} or {SHARED_KIT}")
        shutil.copytree(SHARED_KIT, KIT)
    venv = os.path.join(KIT, "venv", "bin")
    if not (os.access(os.path.join(venv, "ansible-playbook"), os.X_OK) and os.access(os.path.join(venv, "pyinfra"), os.X_OK)):
        print("creating the kit's venv (ansible-core 2.19.14, pyinfra 3.10.0) ...", file=sys.stderr)
        sh([sys.executable, "-m", "venv", os.path.join(KIT, "venv")])
        sh([os.path.join(venv, "pip"), "install", "-q", "ansible-core==2.19.14", "pyinfra==3.10.0"])

    env = dict(os.environ, ANSIBLE_CONFIG=f"{KIT}/ansible/ansible.cfg", PEERBENCH_DIR=KIT)
    play, inventory = f"{KIT}/ansible/podman-host.yml", f"{KIT}/ansible/inventory/local.ini"
    roots = {name: f"{KIT}/bench-{name}" for name in ("provision", "ansible", "pyinfra")}
    for root in roots.values():
        shutil.rmtree(root, ignore_errors=True)
    # pyinfra reads its root from the inventory file: give it one of its own.
    pyinv = f"{KIT}/bench-pyinfra-inventory.py"
    with open(pyinv, "w") as fh:
        fh.write(f'hosts = [("@local", {{"peer_root": "{roots["pyinfra"]}"}})]\n')
    commands = {
        "provision": [args.binary, "apply", play, "-i", inventory, "-e", f"peer_root={roots['provision']}"],
        "ansible-playbook": [f"{venv}/ansible-playbook", "-i", inventory, play, "-e", f"peer_root={roots['ansible']}"],
        "pyinfra": [f"{venv}/pyinfra", "-y", pyinv, f"{KIT}/pyinfra/deploy.py"],
    }
    for cmd in commands.values():  # converge first: the timed runs are no-ops
        sh(cmd, env)
    check = sh(commands["provision"] + ["--json"], env)
    if '"changed": 0' not in check.stdout:
        sys.exit("provision's second run changed something: " + check.stdout)

    results = {name: timed(cmd, env, args.runs) for name, cmd in commands.items()}
    startup = timed([args.binary, "--version"], env, max(args.runs, 20))
    ours = results["provision"][0]
    print(f"peer play no-op run, local, median of {args.runs} (min in brackets)")
    for name, (median, best) in results.items():
        ratio = "" if name == "provision" else f"   provision is {median / ours:6.1f}x faster"
        print(f"  {name:18} {median:8.3f} s  [{best:.3f}]{ratio}")
    print(f"  provision --version {startup[0] * 1000:7.1f} ms  [{startup[1] * 1000:.1f}]")
    print("targets: no-op < 0.1 s (>10x pyinfra, >80x ansible); --version < 20 ms")


if __name__ == "__main__":
    main()
