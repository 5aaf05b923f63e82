import Foundation
import XCTest

/// A fresh nested Debian trixie test host for playbooks/ollama.yml, reached over ssh: the first host of the fleet in
/// PROVISION_OLLAMA_HOSTS_DIR (default /var/tmp/provision-testhosts-ollama, which scripts/test.sh starts on port 22361).
/// The images and models are the Ollama STAND-IN's (testhosts/ollama-standin/): its `podman save` archive is
/// the play's ollama_image_archive, and its registry runs on the host itself (python3, a transient unit whose
/// journal counts every request), reached from the servers' containers as host.docker.internal.
struct OllamaTestHost {
    static let folder = ProcessInfo.processInfo.environment["PROVISION_OLLAMA_HOSTS_DIR"] ?? "/var/tmp/provision-testhosts-ollama"
    static let standIn = TestSupport.packageRoot.appendingPathComponent("testhosts/ollama-standin").path
    static let registryUnit = "ollama-standin-registry"

    let fleet: TestFleet
    /// What build-image.sh made: the image reference, its archive and the model store.
    let image: String, archive: String, modelStore: String
    var port: Int { fleet.hosts[0].port }

    init() throws {
        let start = "PROVISION_TESTHOSTS_DIR=\(OllamaTestHost.folder) PROVISION_TESTHOSTS_PORT=22361 PROVISION_TESTHOSTS_MODE=nested testhosts/fleet-up.sh 1 trixie"
        fleet = try TestFleet(folder: OllamaTestHost.folder, count: 1, start: start)
        let build = try TestSupport.runSpawned("/bin/bash", [OllamaTestHost.standIn + "/build-image.sh"])
        guard build.status == 0 else { throw TestHostError("the Ollama stand-in's build-image.sh failed: \(build.stderr)") }
        var built: [String: String] = [:]
        for line in build.stdout.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { built[parts[0]] = parts[1] }
        }
        guard let image = built["image"], let archive = built["archive"], let models = built["models"] else {
            throw TestHostError("build-image.sh did not say what it built: \(build.stdout)")
        }
        (self.image, self.archive, self.modelStore) = (image, archive, models)
    }

    /// The inventory: the host in ollama_servers, the test-host quirks of testhosts/standard/group_vars, and the
    /// stand-in as the servers' image, its registry in their environment.
    func inventory(in scratch: Scratch) throws -> String {
        try scratch.write("inventory/host_vars/th.yml", """
        ollama_image: \(image)
        ollama_image_archive: \(archive)
        ollama_environment:
          OLLAMA_STANDIN_REGISTRY: http://host.docker.internal:11600

        """)
        let path = try scratch.write("inventory/hosts.yml", """
        all:
          vars:
        \(fleet.connectionVariables)
          children:
            ollama_servers:
              hosts:
                th: {ansible_port: \(port)}

        """)
        let quirks = TestSupport.packageRoot.appendingPathComponent("testhosts/standard/group_vars").path
        try? FileManager.default.createSymbolicLink(atPath: scratch.path + "/inventory/group_vars", withDestinationPath: quirks)
        return path
    }

    func run(_ command: String) throws -> TestSupport.Result { try fleet.run(port, command) }

    func output(_ command: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try fleet.output(port, command, file: file, line: line)
    }

    /// No trace of an earlier run (the account, its home, units, volumes and image, the backups), and the
    /// test host's one quirk for rootless quadlet units: network-online.target is reached (nothing in these
    /// containers pulls it in, so every user unit would wait 90 s for it, at each start and each boot).
    func prepare() throws {
        _ = try output(#"""
        if id ollama >/dev/null 2>&1; then
          loginctl disable-linger ollama 2>/dev/null; systemctl stop "user@$(id -u ollama).service" 2>/dev/null
          pkill -KILL -u ollama 2>/dev/null; sleep 1; userdel ollama 2>/dev/null
          sed -i '/^ollama:/d' /etc/subuid /etc/subgid
        fi
        rm -rf /var/lib/ollama /run/provision-ollama /var/backups/ollama
        mkdir -p /etc/systemd/system/multi-user.target.wants
        ln -sf /usr/lib/systemd/system/network-online.target /etc/systemd/system/multi-user.target.wants/network-online.target
        systemctl daemon-reload && systemctl start network-online.target
        """#)
    }

    /// The stand-in registry on the host (python3 and its model store, copied over); a transient unit, so a
    /// restart of the host stops it: a pull after that cannot succeed.
    func startRegistry() throws {
        // Two archives, one stream: the far tar reads past the first's end (-i).
        let copy = try TestSupport.run("/bin/sh", ["-c", "{ tar -C \(OllamaTestHost.standIn) -cf - standin.py && tar -C \(modelStore)/.. -cf - models; }"
                                                  + " | ssh -o BatchMode=yes -o UserKnownHostsFile=\(fleet.folder)/known_hosts -i \(fleet.folder)/id_ed25519"
                                                  + " -p \(port) root@127.0.0.1 'mkdir -p /opt/ollama-standin && tar -C /opt/ollama-standin -xf - -i'"])
        XCTAssertEqual(copy.status, 0, copy.stderr)
        _ = try output("""
        systemctl is-active --quiet \(OllamaTestHost.registryUnit) || systemd-run -q --unit \(OllamaTestHost.registryUnit) \\
          python3 /opt/ollama-standin/standin.py standin-registry --root /opt/ollama-standin/models --listen 0.0.0.0:11600
        for i in $(seq 50); do journalctl -u \(OllamaTestHost.registryUnit) -o cat | grep -q 'Listening on' && exit 0; sleep 0.2; done; exit 1
        """)
    }

    /// How many blobs and manifests the registry has served since it started.
    func registryRequests() throws -> Int {
        Int(try output("journalctl -u \(OllamaTestHost.registryUnit) -o cat | grep -c '\"GET /v2/' || true")
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// GET /api/tags on a port of the host, from the host (bash's /dev/tcp: the host has no curl): the models' names.
    func models(on port: Int) throws -> [String]? {
        OllamaTestHost.modelNames(inTagsResponse: try run("bash -c 'exec 3<>/dev/tcp/127.0.0.1/\(port) && printf \"GET /api/tags HTTP/1.0\\r\\n\\r\\n\" >&3 && cat <&3'").stdout)
    }

    /// The models' names, sorted, in an HTTP response to GET /api/tags; nil when it holds no model list.
    static func modelNames(inTagsResponse response: String) -> [String]? {
        guard let body = response.components(separatedBy: "\r\n\r\n").last,
              let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              let models = object["models"] as? [[String: Any]] else { return nil }
        return models.compactMap { $0["name"] as? String }.sorted()
    }

    /// Runs a command as the account with its runtime folder (its podman, its systemd manager).
    func asOllama(_ command: String) throws -> TestSupport.Result {
        try run("cd / && runuser -u ollama -- env XDG_RUNTIME_DIR=/run/user/$(id -u ollama) PODMAN_IGNORE_CGROUPSV1_WARNING=1 sh -c '\(command)'")
    }

    /// What --check must leave alone: accounts and id ranges, lingering, the account's home, podman's
    /// configuration and root's containers, the packages, the system's units.
    func snapshot() throws -> String {
        try output(#"""
        export PODMAN_IGNORE_CGROUPSV1_WARNING=1
        id ollama 2>&1; cat /etc/subuid /etc/subgid; ls /var/lib/systemd/linger 2>&1
        find /var/lib/ollama /etc/containers /usr/local/bin -exec stat -c '%n %a %u %s %Y' {} + 2>&1 | sort
        dpkg-query -W podman passt 2>&1
        command -v podman >/dev/null && podman ps -a --format '{{.Names}} {{.Status}}' | sed 's/Up .*/Up/'
        systemctl list-units --all --plain --no-legend --no-pager | awk '{print $1, $3}' | grep -Ev '^(session-|run-|[0-9a-f]{64}-)' | sort
        """#)
    }

    /// Restarts the test host's container (its systemd boots again).
    func reboot() throws { try fleet.reboot() }
}
