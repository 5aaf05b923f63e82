import Foundation
import XCTest
@testable import Provisioner

/// The bundle of playbooks/ollama.yml installed on a host with NO network (seed 003, DESIGN §7): a Debian trixie
/// container with systemd and podman 5 started with `--network none` (testhosts/airgap/up.sh: loopback only, no
/// route, no DNS, no sshd), reached only with `podman exec` and `podman cp`, as a USB stick reaches such a machine.
/// The image and models are the Ollama STAND-IN's (testhosts/ollama-standin/): the bundle saves the image from this
/// machine's podman and copies the models from the stand-in's model store. On the host: `install.sh --dry-run`
/// plans the import of both models from the bundle; `install.sh` installs (the bundled provision, --connection
/// local); both servers run and list their models; a second run changes nothing; an update bundle holding only a
/// new model adds it with nothing else changed; a play naming a model the bundle lacks fails before anything changes.
/// The record of connection attempts is the kernel's: Ip/Ip6 OutNoRoutes (a connect or send with no route, which
/// is what any attempt to reach the network is here) in every network namespace of the host (the host's, the
/// rootless network's, each container's) before and after, with a control attempt that shows the counter moves.
final class AirGapHostTests: XCTestCase {
    static let root = TestSupport.packageRoot.path
    static let hostName = ProcessInfo.processInfo.environment["PROVISION_AIRGAP_HOST"] ?? "provision-airgap-ollama"
    static let image = "localhost/provision-testhost-trixie-podman:latest"

    var host: String { AirGapHostTests.hostName }

    /// A command inside the host (podman exec; posix_spawn, as podman closes the descriptor Process watches).
    func exec(_ command: String) throws -> TestSupport.Result {
        try TestSupport.runSpawned("/usr/bin/podman", ["exec", host, "bash", "-c", command])
    }

    func output(_ command: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try exec(command)
        XCTAssertEqual(result.status, 0, "`\(command)` failed in \(host): \(result.stdout)\(result.stderr)", file: file, line: line)
        return result.stdout
    }

    /// Per network namespace of the host (one line each: those of the processes root can read), the counters
    /// `OutNoRoutes Ip6OutNoRoutes TcpActiveOpens UdpOutDatagrams TcpOutSegs TcpInSegs UdpInDatagrams`; the host's own
    /// namespace first.
    func counters() throws -> [[Int]] {
        let text = try output(#"""
        count() { awk '/^Ip:/ {i++; if (i == 2) r = $13} /^Tcp:/ {t++; if (t == 2) a = $6 " " $12 " " $11} /^Udp:/ {u++; if (u == 2) o = $5 " " $2}
                       END {printf "%s ", r " " a " " o}' "$1/net/snmp" 2>/dev/null && awk '$1 == "Ip6OutNoRoutes" {print $2}' "$1/net/snmp6" 2>/dev/null; }
        count /proc/1
        for p in /proc/[0-9]*; do [ -r "$p/net/snmp" ] && count "$p"; done | sort -u
        """#)
        // OutNoRoutes, ActiveOpens OutSegs InSegs, OutDatagrams InDatagrams, then v6's.
        return text.split(separator: "\n").map { line in
            let f = line.split(separator: " ").compactMap { Int($0) }
            return f.count == 7 ? [f[0], f[6], f[1], f[4], f[2], f[3], f[5]] : []
        }
    }

    func models(on port: Int) throws -> [String]? {
        OllamaTestHost.modelNames(inTagsResponse: try exec("exec 3<>/dev/tcp/127.0.0.1/\(port) && printf 'GET /api/tags HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3").stdout)
    }

    func changes(_ result: TestSupport.Result) -> [String] {
        result.tasks.filter { $0["status"] as? String == "changed" }.flatMap { $0["changes"] as? [String] ?? [] }
    }

    /// A fresh air-gapped host (skips without root, podman or the image; PROVISION_REQUIRE_TESTHOSTS=1 fails instead),
    /// removed after the test; returns the provision binary to bundle, whose Swift runtime the host gets when it is
    /// the debug build (PROVISION_STATIC_BINARY: a static build, which needs none).
    func freshHost() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let require = environment["PROVISION_REQUIRE_TESTHOSTS"] == "1"
        if getuid() == 0, TestSupport.which("podman") != nil, require || environment["PROVISION_AIRGAP_BUILD"] == "1" {
            // scripts/test.sh builds the image meanwhile: this waits for that build (its lock), or builds it.
            let build = try TestSupport.runSpawned("/bin/bash", [AirGapHostTests.root + "/testhosts/build-image.sh", "trixie-podman"])
            XCTAssertEqual(build.status, 0, "testhosts/build-image.sh trixie-podman: \(build.stdout)\(build.stderr)")
        }
        guard getuid() == 0, TestSupport.which("podman") != nil,
              try TestSupport.runSpawned("/usr/bin/podman", ["image", "exists", AirGapHostTests.image]).status == 0 else {
            if require { XCTFail("the air-gapped host needs root, podman and \(AirGapHostTests.image) (scripts/test.sh builds it)") }
            throw XCTSkip("no \(AirGapHostTests.image) (testhosts/build-image.sh trixie-podman, as root) or no podman: the air-gapped host test skips")
        }
        let provision = try TestSupport.provisionBinary().path
        let up = try TestSupport.runSpawned("/bin/bash", [AirGapHostTests.root + "/testhosts/airgap/up.sh", host])
        XCTAssertEqual(up.status, 0, up.stderr)
        addTeardownBlock { [host] in
            if ProcessInfo.processInfo.environment["PROVISION_KEEP_AIRGAP_HOST"] != "1" {
                _ = try? TestSupport.runSpawned("/bin/bash", [AirGapHostTests.root + "/testhosts/airgap/down.sh", host])
            }
        }
        XCTAssertEqual(try output("ls /sys/class/net; wc -l < /proc/net/route"), "lo\n1\n", "the host has a loopback interface and no route")
        if let staticBinary = environment["PROVISION_STATIC_BINARY"] { return staticBinary }
        // The debug build links the Swift runtime dynamically: the host gets those libraries where the binary
        // looks for them (the static release build needs none; PROVISION_STATIC_BINARY tests that one).
        let ldd = try TestSupport.run("/usr/bin/ldd", [provision])
        let libraries = ldd.stdout.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            return words.count >= 3 && words[1] == "=>" && !words[2].hasPrefix("/lib") && !words[2].hasPrefix("/usr/lib") ? String(words[2]) : nil
        }
        for folder in Set(libraries.map { ($0 as NSString).deletingLastPathComponent }) { _ = try output("mkdir -p \(folder)") }
        for library in libraries {
            XCTAssertEqual(try TestSupport.runSpawned("/usr/bin/podman", ["cp", library, "\(host):\(library)"]).status, 0, library)
        }
        return provision
    }

    func install(_ folder: String, _ arguments: [String] = [], _ label: String) throws -> TestSupport.Result {
        let started = Date()
        let result = try exec("cd /root/\(folder) && ./install.sh " + arguments.map { "'\($0)' " }.joined() + "--json")
        print("airgap: \(label): \(String(format: "%.1f", Date().timeIntervalSince(started))) s, changed=\(result.recap("changed")), status \(result.status)")
        return result
    }

    /// No attempt to reach the network in any namespace since `before`; then a control attempt shows it would count.
    func assertNoConnectionAttempts(since before: [[Int]], _ label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let after = try counters()
        print("airgap: \(label): counters per network namespace [OutNoRoutes, Ip6OutNoRoutes, TcpActiveOpens, UdpOutDatagrams, TcpOutSegs, "
              + "TcpInSegs, UdpInDatagrams] before \(before), after \(after) (loopback traffic: the health checks, /api/tags)")
        for namespace in after {
            XCTAssertEqual(namespace.count, 7, "\(after)", file: file, line: line)
            XCTAssertEqual(namespace.prefix(2), [0, 0], "a connection attempt with no route was made: \(after)", file: file, line: line)
        }
        // The host's own namespace sent nothing it did not receive itself: all its traffic was on its loopback.
        if let own = after.first, own.count == 7 {
            XCTAssertEqual(own[4], own[5], "TCP segments sent and received in the host's namespace: \(own)", file: file, line: line)
            XCTAssertEqual(own[3], own[6], "UDP datagrams sent and received in the host's namespace: \(own)", file: file, line: line)
        }
        _ = try exec(": > /dev/tcp/192.0.2.1/80")
        XCTAssertEqual(try counters().first?.first, 1, "the control attempt (192.0.2.1:80) is counted in the host's namespace", file: file, line: line)
    }

    /// Builds the Ollama stand-in (cached): its image reference, archive and model store.
    func standIn() throws -> [String: String] {
        let build = try TestSupport.runSpawned("/bin/bash", [AirGapHostTests.root + "/testhosts/ollama-standin/build-image.sh"])
        XCTAssertEqual(build.status, 0, build.stderr)
        var built: [String: String] = [:]
        for line in build.stdout.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { built[parts[0]] = parts[1] }
        }
        return built
    }

    func testOllamaBundleInstallsOnAHostWithNoNetwork() throws {
        let binary = try freshHost()
        let provision = try TestSupport.provisionBinary().path
        let scratch = try Scratch()
        defer { scratch.remove() }
        let built = try standIn()
        let image = try XCTUnwrap(built["image"]), store = try XCTUnwrap(built["models"])

        // The inventory the site writes: this host, local connection; the test-host quirks of testhosts/standard
        // (podman inside a container) and the packages this host has (packages are not bundled yet).
        let quirks = try String(contentsOfFile: AirGapHostTests.root + "/testhosts/standard/group_vars/all.yml", encoding: .utf8)
        try scratch.write("inventory/group_vars/all.yml", quirks)
        try scratch.write("inventory/host_vars/airgap.yml", "podman_packages: [podman, uidmap, crun]\n")
        try scratch.write("inventory/hosts.yml", "all:\n  children:\n    ollama_servers:\n      hosts:\n        airgap: {ansible_connection: local}\n")

        // The bundle, on the connected side.
        var started = Date()
        let bundle = scratch.path + "/bundle"
        let made = try TestSupport.run(provision, ["bundle", AirGapHostTests.root + "/playbooks/ollama.yml", "-o", bundle, "-i", scratch.path + "/inventory",
                                                  "--model-store", store, "-e", "ollama_image=\(image)", "--binary", binary])
        XCTAssertEqual(made.status, 0, made.stderr)
        let manifest = try BundleManifest.load(bundle: bundle)
        print("airgap: bundle of ollama.yml in \(String(format: "%.1f", Date().timeIntervalSince(started))) s: \(manifest.entries.count) files, "
              + "\(manifest.totalSize) bytes (provision \(BundleIO.fileSize(binary) ?? 0), images \(manifest.entries.filter { $0.path.hasPrefix("images/") }.reduce(0) { $0 + $1.size }), "
              + "models \(manifest.entries.filter { $0.path.hasPrefix("models/") }.reduce(0) { $0 + $1.size }))")
        XCTAssertEqual(manifest.entries.filter { $0.path.hasPrefix("models/manifests/") }.map(\.path).sorted(),
                       ["models/manifests/registry.ollama.ai/library/granite4/latest", "models/manifests/registry.ollama.ai/library/qwen2.5-coder/7b"])

        // The host's quirk for rootless quadlet units (as OllamaTestHost.prepare): network-online.target is reached.
        _ = try output("""
        mkdir -p /etc/systemd/system/multi-user.target.wants
        ln -sf /usr/lib/systemd/system/network-online.target /etc/systemd/system/multi-user.target.wants/network-online.target
        systemctl daemon-reload && systemctl start network-online.target
        """)
        XCTAssertEqual(try TestSupport.runSpawned("/usr/bin/podman", ["cp", bundle, "\(host):/root/bundle"]).status, 0)
        let before = try counters()

        let dry = try install("bundle", ["--dry-run"], "install.sh --dry-run")
        XCTAssertEqual(dry.status, 0, dry.stdout + dry.stderr)
        for expected in ["import granite4:latest into ollama-granite4 from /root/bundle/models", "import qwen2.5-coder:7b into ollama-qwen-coder from /root/bundle/models",
                         "load \(image) from /root/bundle/images/"] {
            XCTAssertTrue(changes(dry).contains { $0.hasPrefix(expected) }, "--dry-run plans: \(expected): \(changes(dry))")
        }
        started = Date()
        let first = try install("bundle", [], "install.sh")
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertGreaterThan(first.recap("changed"), 0)
        XCTAssertEqual(try models(on: 55077), ["granite4:latest"])
        XCTAssertEqual(try models(on: 55078), ["qwen2.5-coder:7b"])
        XCTAssertEqual(try output("cd / && runuser -u ollama -- env XDG_RUNTIME_DIR=/run/user/$(id -u ollama) systemctl --user is-active ollama-granite4.service ollama-qwen-coder.service"),
                       "active\nactive\n")
        let second = try install("bundle", [], "install.sh again")
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
        XCTAssertEqual(second.recap("changed"), 0, changes(second).joined(separator: "\n"))

        // An update bundle holding only a new model (seed 003's "Update Existing Installation"): added, nothing else changes.
        let newStore = scratch.path + "/store-update"
        let makeModel = try TestSupport.run("/usr/bin/python3", [AirGapHostTests.root + "/testhosts/ollama-standin/make-models.py", newStore, "extra:1b=1M"])
        XCTAssertEqual(makeModel.status, 0, makeModel.stderr)
        let instances = #"{"ollama_image": "\#(image)", "ollama_instances": [{"name": "granite4", "port": 55077, "models": ["granite4:latest", "extra:1b"], "gpu": "auto", "cpus": 4, "memory": "8G"}, {"name": "qwen-coder", "port": 55078, "models": ["qwen2.5-coder:7b"], "gpu": "auto", "cpus": 4, "memory": "12G"}]}"#
        let update = scratch.path + "/update"
        let updateMade = try TestSupport.run(provision, ["bundle", AirGapHostTests.root + "/playbooks/ollama.yml", "-o", update, "-i", scratch.path + "/inventory",
                                                        "--model-store", newStore, "--models", "extra:1b", "-e", instances, "--binary", binary])
        XCTAssertEqual(updateMade.status, 0, updateMade.stderr)
        let updateManifest = try BundleManifest.load(bundle: update)
        XCTAssertFalse(updateManifest.entries.contains { $0.path.hasPrefix("images/") }, "the update bundle holds no image")
        print("airgap: update bundle (extra:1b only): \(updateManifest.totalSize) bytes")
        XCTAssertEqual(try TestSupport.runSpawned("/usr/bin/podman", ["cp", update, "\(host):/root/update"]).status, 0)
        let added = try install("update", [], "update install.sh")
        XCTAssertEqual(added.status, 0, added.stdout + added.stderr)
        XCTAssertEqual(changes(added).count, 1, "\(changes(added))")
        XCTAssertTrue(changes(added).first?.hasPrefix("import extra:1b into ollama-granite4 from /root/update/models") ?? false, "\(changes(added))")
        XCTAssertEqual(try models(on: 55077), ["extra:1b", "granite4:latest"])
        XCTAssertEqual(try models(on: 55078), ["qwen2.5-coder:7b"])

        // A model the bundle lacks: refused before the host is touched.
        let snapshot = try output("find /var/lib/ollama/.config /etc/containers /etc/passwd /etc/subuid -printf '%p %s %T@\\n' | sort")
        let lacking = try install("bundle", ["-e", instances.replacingOccurrences(of: "extra:1b", with: "missing:2b")], "install.sh with a model the bundle lacks")
        XCTAssertNotEqual(lacking.status, 0)
        XCTAssertTrue((lacking.stdout + lacking.stderr).contains("offline: model missing:2b is not in the bundle"), lacking.stdout + lacking.stderr)
        XCTAssertTrue((lacking.stdout + lacking.stderr).contains("nothing was changed"), lacking.stdout + lacking.stderr)
        XCTAssertEqual(try output("find /var/lib/ollama/.config /etc/containers /etc/passwd /etc/subuid -printf '%p %s %T@\\n' | sort"), snapshot)
        XCTAssertEqual(try models(on: 55077), ["extra:1b", "granite4:latest"], "nothing imported")

        print("airgap: install and reruns took \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        XCTAssertGreaterThanOrEqual(Set(try counters()).count, 3, "the containers' namespaces are read too")
        try assertNoConnectionAttempts(since: before, "ollama.yml")
    }

    /// Seed 003's manifest bundle (`provision bundle --manifest`), in the seed's shape: [package], [install] (prefix,
    /// user, group), an external-binary, model files, an optional model left out, the systemd service as a
    /// config-file. The connected side serves the components over HTTP (127.0.0.1): the binary is a STAND-IN
    /// (`ollama-linux-amd64`: the Ollama stand-in server as one executable Python zip application, NOT Ollama) and
    /// the model files are the stand-in granite4 model's store files, which the service's OLLAMA_MODELS points at.
    func testSeedManifestBundleInstallsOnAHostWithNoNetwork() throws {
        let binary = try freshHost()
        let provision = try TestSupport.provisionBinary().path
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try XCTUnwrap(try standIn()["models"])
        let www = scratch.path + "/www"
        try FileManager.default.createDirectory(atPath: www + "/app", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: AirGapHostTests.root + "/testhosts/ollama-standin/standin.py", toPath: www + "/app/standin.py")
        try "# The Ollama STAND-IN (not Ollama), as one executable\nimport sys\nimport standin\nsys.exit(standin.cli(sys.argv[1:]))\n"
            .write(toFile: www + "/app/__main__.py", atomically: true, encoding: .utf8)
        let zipapp = try TestSupport.run("/usr/bin/python3", ["-m", "zipapp", www + "/app", "-p", "/usr/bin/python3", "-o", www + "/ollama-linux-amd64"])
        XCTAssertEqual(zipapp.status, 0, zipapp.stderr)
        try FileManager.default.removeItem(atPath: www + "/app")
        let manifestFile = store + "/manifests/registry.ollama.ai/library/granite4/latest"
        var files: [(name: String, inside: String, source: String)] = [("granite4-manifest", "models/manifests/registry.ollama.ai/library/granite4/latest", manifestFile)]
        let manifestJSON = try XCTUnwrap(JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: manifestFile))) as? [String: Any])
        for entry in [manifestJSON["config"] as? [String: Any]].compactMap({ $0 }) + (manifestJSON["layers"] as? [[String: Any]] ?? []) {
            let hex = String(try XCTUnwrap(entry["digest"] as? String).dropFirst(7))
            files.append(("granite4-\(hex.prefix(12))", "models/blobs/sha256-\(hex)", store + "/blobs/sha256-\(hex)"))
        }
        for file in files { try FileManager.default.copyItem(atPath: file.source, toPath: www + "/" + file.name) }

        // A port of this helper's range that nothing answers on, and the server.
        var port = 0
        for candidate in 23001...23020 where try TestSupport.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(candidate)/"]).status != 0 {
            port = candidate
            break
        }
        XCTAssertNotEqual(port, 0, "a free port in 23001-23020")
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", www]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate(); server.waitUntilExit() } }
        for _ in 0..<50 where try TestSupport.run("/usr/bin/curl", ["-fs", "-o", "/dev/null", "http://127.0.0.1:\(port)/ollama-linux-amd64"]).status != 0 { usleep(100_000) }

        /// A component this test's HTTP server serves, as the seed writes one.
        func served(_ type: String, _ name: String, file: String, source: String, installPath: String) throws -> String {
            """
            [[components]]
            type = "\(type)"
            name = "\(name)"
            source.type = "url"
            source.url = "http://127.0.0.1:\(port)/\(file)"
            source.checksum = "sha256:\(try BundleIO.sha256(source).sha256)"
            install_path = "\(installPath)"

            """
        }
        var toml = """
        # AirGapDeploy.ollama.toml (seed 003's shape; the components served by this test's HTTP server)
        [package]
        name = "ollama-deploy"
        version = "0.12.6"
        description = "Ollama stand-in runtime with the granite4 stand-in model for air-gapped deployment"

        [install]
        prefix = "/opt/ollama"
        user = "ollama"
        group = "ollama"


        """
        toml += try served("external-binary", "ollama", file: "ollama-linux-amd64", source: www + "/ollama-linux-amd64", installPath: "bin/ollama")
        for file in files {
            toml += try served("model-file", file.name, file: file.name, source: file.source, installPath: file.inside)
        }
        toml += #"""
        # Optional: Mistral model
        [[components]]
        type = "model-file"
        name = "mistral-7b"
        source.type = "url"
        source.url = "https://ollama.ai/download/mistral-7b.gguf"
        source.checksum = "sha256:def456..."
        install_path = "models/mistral-7b.gguf"
        required = false  # Only included if specified

        [[components]]
        type = "config-file"
        name = "ollama.service"
        content = """
        [Unit]
        Description=Ollama LLM Server (stand-in)
        After=network.target

        [Service]
        Type=simple
        User=ollama
        WorkingDirectory=/opt/ollama
        Environment=OLLAMA_MODELS=/opt/ollama/models
        Environment=OLLAMA_HOST=127.0.0.1:11434
        ExecStart=/opt/ollama/bin/ollama serve
        Restart=on-failure

        [Install]
        WantedBy=multi-user.target
        """
        install_path = "/etc/systemd/system/ollama.service"

        """#
        let manifestPath = try scratch.write("AirGapDeploy.ollama.toml", toml)
        let bundle = scratch.path + "/deploy"
        let started = Date()
        let made = try TestSupport.run(provision, ["bundle", "--manifest", manifestPath, "-o", bundle, "--binary", binary])
        XCTAssertEqual(made.status, 0, made.stdout + made.stderr)
        server.terminate()
        server.waitUntilExit()
        let manifest = try BundleManifest.load(bundle: bundle)
        print("airgap: bundle of the seed 003 manifest in \(String(format: "%.1f", Date().timeIntervalSince(started))) s: \(manifest.entries.count) files, \(manifest.totalSize) bytes")
        XCTAssertFalse(manifest.entries.contains { $0.path.contains("mistral") }, "the optional model is left out")

        XCTAssertEqual(try TestSupport.runSpawned("/usr/bin/podman", ["cp", bundle, "\(host):/root/deploy"]).status, 0)
        let before = try counters()
        let dry = try install("deploy", ["--dry-run"], "seed 003 install.sh --dry-run")
        XCTAssertEqual(dry.status, 0, dry.stdout + dry.stderr)
        XCTAssertTrue(dry.stdout.contains("/opt/ollama/bin/ollama") && dry.stdout.contains("/etc/systemd/system/ollama.service"), dry.stdout)
        XCTAssertEqual(try exec("id ollama").status, 1, "--dry-run created nothing")
        let first = try install("deploy", [], "seed 003 install.sh")
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertEqual(try output("systemctl is-active ollama.service"), "active\n")
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, try models(on: 11434) == nil { Thread.sleep(forTimeInterval: 0.5) }
        XCTAssertEqual(try models(on: 11434), ["granite4:latest"], "the service lists the bundled model")
        XCTAssertTrue(try output("runuser -u ollama -- /opt/ollama/bin/ollama list").contains("granite4:latest"))
        XCTAssertEqual(try output("stat -c '%U %a' /opt/ollama/bin/ollama /opt/ollama/models/manifests/registry.ollama.ai/library/granite4/latest"),
                       "root 755\nollama 644\n")
        let second = try install("deploy", [], "seed 003 install.sh again")
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
        XCTAssertEqual(second.recap("changed"), 0, changes(second).joined(separator: "\n"))
        try assertNoConnectionAttempts(since: before, "seed 003 manifest")
    }
}
