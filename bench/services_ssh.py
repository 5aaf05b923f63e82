#!/usr/bin/env python3
"""motoko's services (Nextcloud app + database + Redis, vLLM embeddings, LiteLLM: six quadlet
containers, two networks, five images, secrets in env files) on a converged test host over ssh:
provision's no-op time and round trips beside Ansible with the containers.podman collection deploying
the same units the way its users do (podman_container / podman_network with state: quadlet, then
ansible.builtin.systemd with daemon_reload and state: started; a handler restarts changed units),
measured in the same run, and each tool's changed count on its second run. Then one container with
every argument of provision's `container` module beside containers.podman's podman_container with the
same arguments (the anchors recreate containers on every run): each tool's changed count on three runs.

    python3 bench/services_ssh.py [--runs 5] [--binary .build/release/provision]
                                  [--hosts /var/tmp/provision-testhosts-services] [--ansible VENV]

Needs the services' test host (scripts/test.sh starts it; or PROVISION_TESTHOSTS_DIR=...
PROVISION_TESTHOSTS_MODE=nested testhosts/fleet-up.sh 1 trixie) and the full `ansible` package in VENV
(pip install ansible: it ships containers.podman). The images are the STAND-INS of
testhosts/services/build-standins.sh (the real ones cannot be pulled here). provision's units keep
their names and ports; Ansible's are the same units prefixed `ans-` on other ports, on the same host.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

from ollama_ssh import linkage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STANDINS = "/var/tmp/provision-standins"

ANSIBLE_PLAY = """
- hosts: all
  vars:
    dir: /space/containers/apps/ans
    img: localhost/provision-standin
  tasks:
    - name: service directories
      ansible.builtin.file: {path: "{{ dir }}/{{ item }}", state: directory, mode: "0750"}
      loop: [nextcloud, nextcloud/html, nextcloud/db, nextcloud/redis, litellm, vllm, vllm/huggingface]
    - name: images are present
      containers.podman.podman_image: {name: "{{ img }}/{{ item }}:1", pull: false}
      loop: [nextcloud, postgres, redis, litellm, vllm]
    - name: secrets
      ansible.builtin.copy: {dest: "{{ dir }}/{{ item.file }}", content: "{{ item.content }}", mode: "0600"}
      loop:
        - {file: nextcloud/db.env, content: "POSTGRES_PASSWORD=test-db-secret\\n"}
        - {file: nextcloud/nextcloud.env, content: "POSTGRES_HOST=ans-nextcloud-db\\nPOSTGRES_PASSWORD=test-db-secret\\n"}
        - {file: litellm/litellm.env, content: "LITELLM_MASTER_KEY=sk-test-master-key\\n"}
      no_log: true
      notify: restart services
    - name: LiteLLM's configuration
      ansible.builtin.copy: {dest: "{{ dir }}/litellm/config.yaml", content: "model_list: []\\n", mode: "0644"}
      notify: restart services
    - name: networks
      containers.podman.podman_network: {name: "{{ item }}", state: quadlet}
      loop: [ans-nextcloud, ans-vllm]
      notify: restart services
    - name: containers as quadlet units
      containers.podman.podman_container:
        name: "{{ item.name }}"
        image: "{{ img }}/{{ item.image }}:1"
        state: quadlet
        network: "{{ item.network }}.network"
        env_file: "{{ item.env | default(omit) }}"
        publish: "{{ item.publish | default(omit) }}"
        volume: "{{ item.volume }}"
        quadlet_options: ["[Service]", "Restart=always", "[Install]", "WantedBy=multi-user.target"]
      loop:
        - {name: ans-nextcloud-db, image: postgres, network: ans-nextcloud, env: "{{ dir }}/nextcloud/db.env", volume: ["{{ dir }}/nextcloud/db:/var/lib/postgresql/data"]}
        - {name: ans-nextcloud-redis, image: redis, network: ans-nextcloud, volume: ["{{ dir }}/nextcloud/redis:/data"]}
        - {name: ans-nextcloud-app, image: nextcloud, network: ans-nextcloud, env: "{{ dir }}/nextcloud/nextcloud.env", publish: ["127.0.0.1:18080:80"], volume: ["{{ dir }}/nextcloud/html:/var/www/html"]}
        - {name: ans-vllm-embeddings, image: vllm, network: ans-vllm, publish: ["127.0.0.1:18000:8000"], volume: ["{{ dir }}/vllm/huggingface:/root/.cache/huggingface"]}
        - {name: ans-litellm, image: litellm, network: ans-vllm, env: "{{ dir }}/litellm/litellm.env", publish: ["127.0.0.1:14000:4000"], volume: ["{{ dir }}/litellm/config.yaml:/app/config.yaml:ro"]}
      loop_control: {label: "{{ item.name }}"}
      notify: restart services
    - name: the units run
      ansible.builtin.systemd: {name: "{{ item }}.service", state: started, daemon_reload: true}
      loop: [ans-nextcloud-db, ans-nextcloud-redis, ans-nextcloud-app, ans-vllm-embeddings, ans-litellm]
  handlers:
    - name: restart services
      ansible.builtin.systemd: {name: "{{ item }}.service", state: restarted, daemon_reload: true}
      loop: [ans-nextcloud-db, ans-nextcloud-redis, ans-nextcloud-app, ans-vllm-embeddings, ans-litellm]
"""

# The anchors' best-known defect (containers.podman #31, #125, #354): a container recreated on every run.
# One container with every argument of provision's `container` module, and the same in podman_container.
EVERY_ARGUMENT = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.file: {path: /srv/bench, state: directory, mode: "0755"}
    - ansible.builtin.copy: {dest: /srv/bench/app.env, content: "FROM_FILE=1\\n", mode: "0600"}
    - %s
"""
# (provision's argument, podman_container's, value); the name, ports and volume differ per tool.
EVERY = [("entrypoint", "entrypoint", "/bin/sh"), ("command", "command", ["-c", "exec httpd -f -p 8080 -h /www"]),
         ("env", "env", {"A": "1", "B": "two words"}), ("env_file", "env_file", ["/srv/bench/app.env"]),
         ("devices", "device", ["/dev/null:/dev/xnull"]), ("container_user", "user", "1000:1000"), ("network", "network", ["podman"]),
         ("labels", "label", {"team": "ops"}), ("restart", "restart_policy", "always"), ("workdir", "workdir", "/www"),
         ("hostname", "hostname", "bench1"), ("cap_add", "cap_add", ["NET_ADMIN"]), ("cap_drop", "cap_drop", ["MKNOD"]),
         ("stop_timeout", "stop_timeout", 3)]


def every_argument_play(ansible):
    prefix = "ans-" if ansible else ""
    args = {"name": prefix + "bench-every-argument", "image": "localhost/provision-standin/redis:1"}
    if ansible:
        args["state"] = "started"
    args.update({theirs if ansible else ours: value for ours, theirs, value in EVERY})
    args["publish" if ansible else "ports"] = [f"127.0.0.1:{18091 if ansible else 18090}:8080"]
    args["volume" if ansible else "volumes"] = [prefix + "bench-data:/data", "/srv/bench:/conf:ro"]
    # JSON is YAML: one flow mapping.
    return EVERY_ARGUMENT % (("containers.podman.podman_container" if ansible else "container") + ": " + json.dumps(args))

def run(cmd, env=None, check=True):
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if check and res.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    return res


def timed(cmd, env, runs):
    samples, last = [], None
    for _ in range(runs):
        start = time.perf_counter()
        last = run(cmd, env)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), last


def ansible_changed(output):
    for line in output.splitlines():
        if "changed=" in line and ":" in line and "ok=" in line:
            return int(line.split("changed=")[1].split()[0])
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/provision"))
    ap.add_argument("--hosts", default=os.environ.get("PROVISION_SERVICES_HOSTS_DIR", "/var/tmp/provision-testhosts-services"))
    ap.add_argument("--ansible", default="/tmp/provision-ansible-full-venv", help="a virtualenv with the full `ansible` package")
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"{args.binary} not found: run `swift build -c release --static-swift-stdlib` first")
    fleet = open(os.path.join(args.hosts, "fleet")).read().split()
    if len(fleet) < 3:
        sys.exit(f"no test host in {args.hosts}: start one with testhosts/fleet-up.sh (see --help)")
    port = fleet[1]
    playbook_bin = os.path.join(args.ansible, "bin", "ansible-playbook")
    if not os.access(playbook_bin, os.X_OK):
        sys.exit(f"{playbook_bin} missing: python3 -m venv {args.ansible} && {args.ansible}/bin/pip install ansible")
    run([os.path.join(ROOT, "testhosts/services/build-standins.sh"), STANDINS])

    work = tempfile.mkdtemp(prefix="provision-services-bench-")
    os.makedirs(f"{work}/inventory")
    ssh_args = f"-o UserKnownHostsFile={args.hosts}/known_hosts -o IdentitiesOnly=yes"
    with open(f"{work}/inventory/hosts.yml", "w") as fh:
        # Named motoko: the standard's test host_vars give it the stand-ins and test secrets.
        fh.write(f"all:\n  vars:\n    ansible_user: root\n    ansible_host: 127.0.0.1\n"
                 f"    ansible_ssh_private_key_file: {args.hosts}/id_ed25519\n    ansible_ssh_common_args: {ssh_args}\n"
                 f"  hosts:\n    motoko: {{ansible_port: {port}}}\n")
    for folder in ("group_vars", "host_vars"):
        os.symlink(os.path.join(ROOT, "testhosts/standard", folder), f"{work}/inventory/{folder}")
    roles = os.path.join(ROOT, "playbooks/roles")
    with open(f"{work}/podman.yml", "w") as fh:
        fh.write(f"- hosts: all\n  roles: [{roles}/podman_standard_linux, {roles}/container_storage_device]\n")
    with open(f"{work}/services.yml", "w") as fh:
        fh.write(f"- hosts: all\n  roles: [{roles}/nextcloud_server, {roles}/vllm-motoko, {roles}/litellm_proxy]\n")
    with open(f"{work}/ansible.yml", "w") as fh:
        fh.write(ANSIBLE_PLAY)
    inventory = f"{work}/inventory/hosts.yml"
    # Pipelining: what fast Ansible setups use (and no -tt, whose pty these hosts refuse).
    env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING="True", ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3", ANSIBLE_PIPELINING="True",
               ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_NOCOLOR="1")

    provision = [args.binary, "apply", f"{work}/services.yml", "-i", inventory, "--json"]
    ansible = [playbook_bin, f"{work}/ansible.yml", "-i", inventory]
    # The host may hold a store elsewhere (the services' tests use the default one): motoko's is under /space.
    run([args.binary, "apply", f"{work}/podman.yml", "-i", inventory, "-e", "podman_storage_allow_reset=true"])
    first = json.loads(run(provision).stdout)
    second = json.loads(run(provision).stdout)
    run(ansible, env)
    ansible_second = run(ansible, env)

    p_time, p_last = timed(provision, None, args.runs)
    a_time, a_last = timed(ansible, env, args.runs)
    recap = json.loads(p_last.stdout)["recap"]["motoko"]
    print(f"converged host over ssh (test host on port {port}), median of {args.runs} no-op runs "
          f"({os.path.basename(args.binary)}, {linkage(args.binary)}):")
    print(f"  provision  no-op {p_time:7.3f} s  round trips {recap['round_trips']:3}  "
          f"changed: first run {first['recap']['motoko']['changed']}, second run {second['recap']['motoko']['changed']}")
    print(f"  ansible    no-op {a_time:7.3f} s  (containers.podman)        "
          f"changed: second run {ansible_changed(ansible_second.stdout)}, later runs {ansible_changed(a_last.stdout)}")
    print(f"  ratio      ansible / provision = {a_time / p_time:.1f}x")

    # One container with every argument, applied three times by each tool: what the reruns change.
    with open(f"{work}/every-provision.yml", "w") as fh:
        fh.write(every_argument_play(False))
    with open(f"{work}/every-ansible.yml", "w") as fh:
        fh.write(every_argument_play(True))
    every = [args.binary, "apply", f"{work}/every-provision.yml", "-i", inventory, "--json"]
    p_changed = [json.loads(run(every).stdout)["recap"]["motoko"]["changed"] for _ in range(3)]
    a_changed = [ansible_changed(run([playbook_bin, f"{work}/every-ansible.yml", "-i", inventory], env).stdout) for _ in range(3)]
    print("one container with every argument of `container` (and the same in podman_container), changed per run:")
    print(f"  provision  container         runs 1-3: {p_changed}")
    print(f"  ansible    podman_container  runs 1-3: {a_changed}")


if __name__ == "__main__":
    main()
