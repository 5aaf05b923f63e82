#!/usr/bin/env python3
"""The peer play over ssh: first run and converged no-op with provision,
ansible-playbook and pyinfra, to 1 host and to 5 hosts, in the same run; then
provision alone to a 50-host inventory (same sshd, separate roots).

    python3 bench/peer_ssh.py [--runs 5] [--binary .build/release/provision]

Uses the peer kit at /tmp/peerbench (copied from ../shared/peerbench when
missing) and its private sshd on 127.0.0.1:2201, set up as its run.sh does.
ssh connections, sessions and exec requests are counted from sshd's DEBUG log,
as the kit counts them; provision's round trips come from its --json recap.
"""
import argparse, json, os, re, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KIT = "/tmp/peerbench"
SHARED_KIT = os.path.join(os.path.dirname(ROOT), "shared", "peerbench")
SSHD_SETUP = r'''
set -e
B=/tmp/peerbench
mkdir -p "$B/ssh" "$B/sshhome" "$B/.ansible/cp" /run/sshd
chmod 700 "$B/ssh"
[ -f "$B/ssh/id_ed25519" ] || {
  ssh-keygen -q -t ed25519 -N '' -C peerbench-hostkey -f "$B/ssh/ssh_host_ed25519_key"
  ssh-keygen -q -t ed25519 -N '' -C peerbench-client -f "$B/ssh/id_ed25519"
  cp "$B/ssh/id_ed25519.pub" "$B/ssh/authorized_keys"; chmod 600 "$B/ssh/authorized_keys"; }
sed -n '/cat > "\$B\/ssh\/sshd_config" <<EOF/,/^EOF/p' "$B/run.sh" | sed '1d;$d' | sed "s#\$B#$B#g" > "$B/ssh/sshd_config"
if ! { [ -f "$B/ssh/sshd.pid" ] && kill -0 "$(cat "$B/ssh/sshd.pid")" 2>/dev/null; }; then
  /usr/sbin/sshd -f "$B/ssh/sshd_config" -E "$B/ssh/sshd.log"
  for _ in $(seq 50); do [ -s "$B/ssh/sshd.pid" ] && break; sleep 0.1; done
fi
ssh-keyscan -p 2201 -t ed25519 127.0.0.1 2>/dev/null > "$B/ssh/known_hosts"
[ -s "$B/ssh/known_hosts" ]
'''


def sh(cmd, env=None, check=True):
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=KIT)
    if check and res.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
    return res


def ssh_counts(start_line):
    with open(f"{KIT}/ssh/sshd.log", errors="replace") as fh:
        lines = fh.readlines()[start_line:]
    count = lambda pattern: sum(1 for l in lines if re.search(pattern, l))
    return (count(r"Accepted publickey"), count(r"server_input_channel_open: ctype session"),
            count(r"Starting session: command for"))


def log_lines():
    with open(f"{KIT}/ssh/sshd.log", errors="replace") as fh:
        return sum(1 for _ in fh)


def measure(cmd, env, runs, reset=None):
    samples, counts = [], None
    for _ in range(runs):
        if reset:
            reset()
        mark = log_lines()
        start = time.perf_counter()
        res = sh(cmd, env)
        samples.append(time.perf_counter() - start)
        counts = ssh_counts(mark), res
    return statistics.median(samples), counts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/provision"))
    ap.add_argument("--only", choices=["provision"], help="time provision alone (no ratios)")
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"{args.binary} not found: run `swift build -c release --static-swift-stdlib` first")
    if not os.path.exists(KIT):
        shutil.copytree(SHARED_KIT, KIT)
    venv = f"{KIT}/venv/bin"
    if not (os.access(f"{venv}/ansible-playbook", os.X_OK) and os.access(f"{venv}/pyinfra", os.X_OK)):
        print("creating the kit's venv (ansible-core 2.19.14, pyinfra 3.10.0) ...", file=sys.stderr)
        sh([sys.executable, "-m", "venv", f"{KIT}/venv"])
        sh([f"{venv}/pip", "install", "-q", "ansible-core==2.19.14", "pyinfra==3.10.0"])
    sh(["/bin/sh", "-c", SSHD_SETUP])
    env = dict(os.environ, ANSIBLE_CONFIG=f"{KIT}/ansible/ansible.cfg", PEERBENCH_DIR=KIT, ANSIBLE_NOCOLOR="1")
    play = f"{KIT}/ansible/podman-host.yml"
    inv = {1: f"{KIT}/ansible/inventory/ssh.ini", 5: f"{KIT}/ansible/inventory/fleet.ini"}
    pyinv = {1: f"{KIT}/pyinfra/inventory_ssh.py", 5: f"{KIT}/pyinfra/inventory_fleet.py"}
    roots = {1: [f"{KIT}/root"], 5: [f"{KIT}/fleet/fleet{n}" for n in range(1, 6)]}
    tools = {
        "provision": lambda n: [args.binary, "apply", play, "-i", inv[n], "--json"],
        "ansible-playbook": lambda n: [f"{venv}/ansible-playbook", "-i", inv[n], "-f", "5", play],
        "pyinfra": lambda n: [f"{venv}/pyinfra", "-y", "--parallel", "5", pyinv[n], f"{KIT}/pyinfra/deploy.py"],
    }

    def reset(n):
        return lambda: [shutil.rmtree(r, ignore_errors=True) for r in roots[n]]

    if args.only:
        tools = {args.only: tools[args.only]}
    rows = []
    for n in (1, 5):
        for name, cmd in tools.items():
            first, _ = measure(cmd(n), env, 1 if name == "ansible-playbook" else min(3, args.runs), reset(n))
            noop, (counts, res) = measure(cmd(n), env, args.runs)
            trips = ""
            if name == "provision":
                recap = json.loads(res.stdout)["recap"]
                trips = str(sum(h["round_trips"] for h in recap.values()))
                assert all(h["changed"] == 0 for h in recap.values()), "provision's no-op changed something"
            rows.append((n, name, first, noop, counts, trips))
    print("peer play over ssh (127.0.0.1:2201), seconds: first run from empty roots, no-op median of", args.runs)
    print(f"  {'hosts':>5}  {'tool':17} {'first':>7} {'no-op':>7}   conns/sessions/execs  round trips  no-op ratio")
    for n, name, first, noop, (c, s, e), trips in rows:
        ours = next(r[3] for r in rows if r[0] == n and r[1] == "provision")
        ratio = "" if name == "provision" else f"{noop / ours:6.1f}x slower"
        print(f"  {n:>5}  {name:17} {first:7.2f} {noop:7.3f}   {c:>5}/{s:>3}/{e:<5}        {trips:>5}       {ratio}")

    # 50 inventory hosts, one sshd, separate roots: provision only.
    hosts50 = f"{KIT}/bench-fleet50.ini"
    with open(hosts50, "w") as fh:
        for h in range(1, 51):
            # One connection per inventory host, as the kit's fleet.ini does: like 50 real hosts.
            fh.write(f"f{h:02d} peer_root={KIT}/fleet50/f{h:02d} ansible_control_path=%(directory)s/f{h:02d}-%%C\n")
        fh.write("[all:vars]\nansible_host=127.0.0.1\nansible_port=2201\nansible_user=root\n"
                 f"ansible_ssh_private_key_file={KIT}/ssh/id_ed25519\n")
    cmd = [args.binary, "apply", play, "-i", hosts50, "--json", "--forks", "50"]
    shutil.rmtree(f"{KIT}/fleet50", ignore_errors=True)
    first, _ = measure(cmd, env, 1)
    noop, (counts, res) = measure(cmd, env, args.runs)
    recap = json.loads(res.stdout)["recap"]
    print(f"  50 hosts, provision: first {first:.2f} s, no-op {noop:.3f} s, {counts[0]} ssh connections,"
          f" {sum(h['round_trips'] for h in recap.values())} round trips, {sum(h['changed'] for h in recap.values())} changed")
    print("targets: no-op < 0.25 s (1 host), < 0.4 s (5 hosts), < 2 s (50 hosts)")


if __name__ == "__main__":
    main()
