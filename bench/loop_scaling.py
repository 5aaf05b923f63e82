#!/usr/bin/env python3
"""Issue 10 #8: the cost of a loop of N copies must grow linearly in N. Times one copy
task looping over N items (each writes its own file: N changes), then the same run
again (N items already right), locally and over ssh, with ansible-playbook on the same
play in the same run for a smaller N (it needs a second or more per item).

    python3 bench/loop_scaling.py [--binary .build/release/provision] [--baseline OTHER_BINARY]
                                  [--local 500,2000,8000] [--ssh 500,2000] [--ansible-local 30] [--ansible-ssh 30]

Over ssh it uses the private sshd of testhosts/sshd-up.sh, started when needed in
$PROVISION_TESTHOSTS_DIR (default /var/tmp/pth-transport) on $PROVISION_BENCH_SSHD_PORT
(default 22410). --baseline times another build (main's, say) on the same plays.
Prints seconds, milliseconds per item and the per-item cost relative to the smallest N
(1.0 everywhere means linear; a quadratic loop doubles it with each doubling of N).
"""
import argparse, os, shutil, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRATCH = "/tmp/provision-loop-bench"
VENV = os.environ.get("PROVISION_ANSIBLE_VENV", "/tmp/provision-ansible-venv")

PLAY = """- hosts: all
  gather_facts: false
  tasks:
    - copy: {{dest: "{folder}/f{{{{ item }}}}", content: "item {{{{ item }}}}\\n"}}
      loop: "{{{{ range(0, {n}) | list }}}}"
"""


def sh(cmd, env=None):
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    return res


def timed(cmd, env=None):
    start = time.perf_counter()
    sh(cmd, env)
    return time.perf_counter() - start


def sshd_inventory():
    state = os.environ.setdefault("PROVISION_TESTHOSTS_DIR", "/var/tmp/pth-transport")
    port = os.environ.get("PROVISION_BENCH_SSHD_PORT", "22410")
    inventory = os.path.join(state, "sshd", "inventory.yml")
    pidfile = os.path.join(state, "sshd", "sshd.pid")
    alive = os.path.exists(pidfile) and os.path.exists(f"/proc/{open(pidfile).read().strip()}")
    if not (alive and os.path.exists(inventory)):
        sh([os.path.join(ROOT, "testhosts", "sshd-up.sh"), port])
    return inventory


def measure(label, tool_cmd, n, inventory, env=None):
    """First run (n changes) and second run (n items already right) of the loop."""
    folder = os.path.join(SCRATCH, f"{label}-{n}")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    play = os.path.join(SCRATCH, f"{label}-{n}.yml")
    with open(play, "w") as fh:
        fh.write(PLAY.format(folder=folder, n=n))
    first = timed(tool_cmd(play, inventory), env)
    second = timed(tool_cmd(play, inventory), env)
    count = len([f for f in os.listdir(folder) if f.startswith("f")])
    if count != n:
        sys.exit(f"{label}: {count} files written, expected {n}")
    shutil.rmtree(folder, ignore_errors=True)
    return first, second


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/provision"))
    ap.add_argument("--baseline", help="another provision binary to time on the same plays")
    ap.add_argument("--local", default="500,2000,8000")
    ap.add_argument("--ssh", default="500,2000")
    ap.add_argument("--ansible-local", default="30")
    ap.add_argument("--ansible-ssh", default="30")
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"{args.binary} not found: run `swift build -c release --static-swift-stdlib` first")
    os.makedirs(SCRATCH, exist_ok=True)
    local_inventory = os.path.join(SCRATCH, "local.ini")
    with open(local_inventory, "w") as fh:
        fh.write("localhost ansible_connection=local\n")
    sizes = lambda text: [int(x) for x in text.split(",") if x]

    tools = [("provision", args.binary)] + ([("baseline", args.baseline)] if args.baseline else [])
    runs = []  # (tool, transport, n, first, second)
    ansible = os.path.join(VENV, "bin", "ansible-playbook")
    for transport, ns, ansible_ns in (("local", sizes(args.local), sizes(args.ansible_local)),
                                      ("ssh", sizes(args.ssh), sizes(args.ansible_ssh))):
        if not ns and not ansible_ns:
            continue
        inventory = local_inventory if transport == "local" else sshd_inventory()
        for name, binary in tools:
            for n in ns:
                first, second = measure(f"{name}-{transport}", lambda p, i: [binary, "apply", p, "-i", i], n, inventory)
                runs.append((name, transport, n, first, second))
                print(f"  {name:9} {transport:5} {n:6} items: {first:8.2f} s, again {second:6.2f} s", file=sys.stderr)
        if os.access(ansible, os.X_OK):
            env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_PIPELINING="True")
            for n in ansible_ns:
                # The host's own python3, not whatever interpreter discovery finds first (a pyenv shim, say).
                command = lambda p, i: [ansible, "-i", i, p, "-e", "ansible_python_interpreter=/usr/bin/python3"]
                first, second = measure(f"ansible-{transport}", command, n, inventory, env)
                runs.append(("ansible", transport, n, first, second))
                print(f"  ansible   {transport:5} {n:6} items: {first:8.2f} s, again {second:6.2f} s", file=sys.stderr)
        else:
            print(f"no ansible-playbook at {ansible}: skipped", file=sys.stderr)

    print("loop of N copies (N changes), then the same run again (N items ok)")
    print(f"  {'tool':9} {'conn':5} {'N':>6} {'changes s':>10} {'ms/item':>8} {'vs smallest N':>13} {'again s':>8} {'ms/item':>8}")
    for tool, transport in sorted({(r[0], r[1]) for r in runs}):
        group = sorted((r for r in runs if r[0] == tool and r[1] == transport), key=lambda r: r[2])
        base = group[0][3] / group[0][2]
        for _, _, n, first, second in group:
            print(f"  {tool:9} {transport:5} {n:6} {first:10.2f} {first / n * 1000:8.2f} {first / n / base:13.2f}"
                  f" {second:8.2f} {second / n * 1000:8.2f}")
    print("linear: 'vs smallest N' stays near 1.0 as N grows")


if __name__ == "__main__":
    main()
