import Foundation
import XCTest

/// The compose module and its playbooks on nested Debian trixie test hosts over ssh (issue 13):
/// - th1, made a podman host by the standard's role: playbooks/chat-app.yml under `mode: quadlet` (units the
///   host's generator accepts, started in dependency order with the backend healthy before the frontend, the
///   frontend and the WebSocket endpoint answering, a rerun 0 changed, `--check` of an edit touching nothing,
///   the edit restarting only its unit), then under `mode: podman-compose` (answering, a rerun 0 changed and
///   no container recreated);
/// - th2, with Docker Engine from Debian (testhosts/shapes/docker-engine.sh) holding a compose project and a
///   container of its own (created, not started: Docker's daemon cannot run containers in a nested host):
///   playbooks/migrate-docker.yml's `--check` changes nothing, the migration leaves no Docker daemon and
///   `docker ps` (podman's) lists the migrated services; a rerun 0 changed.
/// Start the hosts with `PROVISION_TESTHOSTS_DIR=/var/tmp/provision-testhosts-compose PROVISION_TESTHOSTS_PORT=22371
/// PROVISION_TESTHOSTS_MODE=nested testhosts/fleet-up.sh 2 trixie` (scripts/test.sh does this;
/// PROVISION_COMPOSE_HOSTS_DIR points the tests elsewhere).
final class ComposeHostTests: XCTestCase {
    static let folder = ProcessInfo.processInfo.environment["PROVISION_COMPOSE_HOSTS_DIR"] ?? "/var/tmp/provision-testhosts-compose"
    /// The chat app's stand-in images (examples/chat-app/build-images.sh), on the controller.
    static let images = "/var/tmp/provision-chat-app-images"
    static let example = TestSupport.packageRoot.appendingPathComponent("examples/chat-app").path
    static let units = ["chat-model.service", "chat-backend.service", "chat-frontend.service"]

    var fleet: TestFleet!

    override func setUpWithError() throws {
        fleet = try TestFleet(folder: ComposeHostTests.folder, count: 2,
                              start: "PROVISION_TESTHOSTS_DIR=\(ComposeHostTests.folder) PROVISION_TESTHOSTS_PORT=22371 "
                                  + "PROVISION_TESTHOSTS_MODE=nested testhosts/fleet-up.sh 2 trixie")
        let build = try TestSupport.runSpawned(ComposeHostTests.example + "/build-images.sh", [ComposeHostTests.images])
        guard build.status == 0 else { throw TestHostError("building the chat app's images failed: \(build.stderr)") }
    }

    /// An inventory with the host as `th` and the standard's test-host quirks (testhosts/standard/group_vars).
    func inventory(_ port: Int, in scratch: Scratch) throws -> String {
        let path = try scratch.write("inventory/hosts.yml", """
        all:
          vars:
        \(fleet.connectionVariables)
            chat_app_image_archives: \(ComposeHostTests.images)
          hosts:
            th: {ansible_port: \(port)}

        """)
        let quirks = TestSupport.packageRoot.appendingPathComponent("testhosts/standard/group_vars").path
        try? FileManager.default.createSymbolicLink(atPath: scratch.path("inventory/group_vars"), withDestinationPath: quirks)
        return path
    }

    func provision(_ scratch: Scratch, _ arguments: [String]) throws -> TestSupport.Result {
        try scratch.provision(arguments + ["--json"])
    }

    func playbook(_ name: String) -> String { TestSupport.packageRoot.appendingPathComponent("playbooks/" + name).path }

    /// Unit files, units' states and main PIDs, containers (id, name, state), volumes and networks.
    func snapshot(_ port: Int) throws -> String {
        try fleet.output(port, #"""
        export PODMAN_IGNORE_CGROUPSV1_WARNING=1
        find /etc/containers/systemd /srv/chat-app -type f -exec sha256sum {} + 2>/dev/null | sort
        for u in chat-model chat-backend chat-frontend; do systemctl show -p ActiveState,MainPID --value $u.service | tr '\n' ' '; echo; done
        podman ps -a --format '{{.ID}} {{.Names}} {{.State}}' | sort
        podman volume ls -q | sort; podman network ls -q | sort
        """#)
    }

    /// Main PIDs of the chat units.
    func mainPIDs(_ port: Int) throws -> [String: String] {
        var pids: [String: String] = [:]
        for unit in ComposeHostTests.units {
            pids[unit] = try fleet.output(port, "systemctl show -p MainPID --value \(unit)").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return pids
    }

    /// A WebSocket client (RFC 6455) run on the host: the handshake's status and checked accept key, then the
    /// tokens streamed for one message.
    static let webSocketClient = #"""
    import base64, hashlib, json, os, socket
    s = socket.create_connection(("127.0.0.1", 8000), 10)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /ws HTTP/1.1\r\nHost: chat\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
    f = s.makefile("rb")
    status = f.readline().decode().strip()
    headers = {}
    while True:
        line = f.readline().decode().strip()
        if not line: break
        name, _, value = line.partition(":"); headers[name.lower()] = value.strip()
    want = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    message, mask = b"hello", os.urandom(4)
    s.sendall(bytes([0x81, 0x80 | len(message)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(message)))
    tokens = []
    while True:
        header = f.read(2); n = header[1] & 0x7F
        if n == 126: n = int.from_bytes(f.read(2), "big")
        frame = json.loads(f.read(n)); tokens.append(frame["token"])
        if frame["done"]: break
    print(status, "accept-ok" if headers.get("sec-websocket-accept") == want else "accept-wrong", len(tokens), "tokens")
    """#

    func testChatAppUnderQuadletThenPodmanCompose() throws {
        let port = fleet.hosts[0].port
        let scratch = try Scratch()
        defer { scratch.remove() }
        let inventory = try inventory(port, in: scratch)
        // th1 a podman host by the standard's own role.
        let role = TestSupport.packageRoot.appendingPathComponent("playbooks/roles/podman_standard_linux").path
        let play = try scratch.write("podman.yml", "- hosts: all\n  roles: [\(role)]\n")
        let podman = try scratch.provision(["apply", play, "-i", inventory])
        guard podman.status == 0 else { throw TestHostError("the podman standard did not converge on th1:\n\(podman.stdout)\(podman.stderr)") }
        // The project from a copy, so that the test can edit one service.
        let source = scratch.path("chat-app")
        let copy = try TestSupport.runSpawned("/bin/cp", ["-r", ComposeHostTests.example, source])
        XCTAssertEqual(copy.status, 0, copy.stderr)
        let apply = ["apply", playbook("chat-app.yml"), "-i", inventory, "-e", "chat_app_source=\(source)"]

        // mode: quadlet.
        let first = try provision(scratch, apply)
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        let generated = try fleet.output(port, "ls /etc/containers/systemd; systemctl cat chat-frontend.service | grep -c '^ExecStart=.*podman run'")
        for file in ["chat-model.container", "chat-backend.container", "chat-frontend.container", "chat-default.network",
                     "chat-model-data.volume", "chat-backend.env"] {
            XCTAssertTrue(generated.contains(file + "\n"), "no \(file) in /etc/containers/systemd: \(generated)")
        }
        XCTAssertTrue(generated.hasSuffix("1\n"), "the generator made no service of chat-frontend.container: \(generated)")
        // Dependency order: model active (healthy) before the backend starts, the backend healthy before the frontend.
        var times: [String: (start: Int, active: Int)] = [:]
        for unit in ComposeHostTests.units {
            let values = try fleet.output(port, "systemctl show -p ExecMainStartTimestampMonotonic,ActiveEnterTimestampMonotonic --value \(unit)")
                .split(separator: "\n").compactMap { Int($0) }
            XCTAssertEqual(values.count, 2, "\(unit): \(values)")
            if values.count == 2 { times[unit] = (values[0], values[1]) }
        }
        if let model = times["chat-model.service"], let backend = times["chat-backend.service"], let frontend = times["chat-frontend.service"] {
            XCTAssertLessThan(model.active, backend.start, "the backend started before the model server was healthy")
            XCTAssertLessThan(backend.active, frontend.start, "the frontend started before the backend was healthy")
            XCTAssertLessThan(backend.start, backend.active, "the backend counted as started before its health check passed")
        }
        XCTAssertEqual(try fleet.output(port, "podman healthcheck run chat-backend-1 && echo healthy"), "healthy\n")
        XCTAssertTrue(try get(port, "http://127.0.0.1:8080/").contains("<html"), "the frontend does not answer")
        XCTAssertTrue(try get(port, "http://127.0.0.1:8080/cgi-bin/status").contains("\"status\": \"ok\""),
                      "the frontend does not reach the backend by name")
        let webSocket = try fleet.output(port, "python3 - <<'EOF'\n\(ComposeHostTests.webSocketClient)\nEOF")
        XCTAssertTrue(webSocket.hasPrefix("HTTP/1.1 101 Switching Protocols accept-ok "), webSocket)
        XCTAssertFalse(webSocket.contains(" 0 tokens"), webSocket)

        let second = try provision(scratch, apply)
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
        XCTAssertEqual(second.recap("changed"), 0, second.stdout)

        // One edited service: --check lists it and touches nothing; the apply restarts only its unit.
        let compose = source + "/docker-compose.yml"
        let text = try String(contentsOfFile: compose, encoding: .utf8)
        try text.replacingOccurrences(of: "      BACKEND_URL: http", with: "      CHAT_TITLE: edited\n      BACKEND_URL: http")
            .write(toFile: compose, atomically: true, encoding: .utf8)
        let before = try snapshot(port)
        let pids = try mainPIDs(port)
        let check = try provision(scratch, ["check"] + apply.dropFirst())
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        XCTAssertGreaterThan(check.recap("changed"), 0, "--check lists no change: \(check.stdout)")
        XCTAssertEqual(try snapshot(port), before, "--check changed the host")
        let edited = try provision(scratch, apply)
        XCTAssertEqual(edited.status, 0, edited.stdout + edited.stderr)
        let after = try mainPIDs(port)
        XCTAssertEqual(after["chat-model.service"], pids["chat-model.service"], "the model server was restarted")
        XCTAssertEqual(after["chat-backend.service"], pids["chat-backend.service"], "the backend was restarted")
        XCTAssertNotEqual(after["chat-frontend.service"], pids["chat-frontend.service"], "the edited frontend was not restarted")
        XCTAssertTrue(try fleet.output(port, "podman exec chat-frontend-1 env").contains("CHAT_TITLE=edited\n"))

        // mode: podman-compose: the units go, podman-compose's containers answer; a rerun recreates nothing.
        let compose1 = try provision(scratch, apply + ["-e", "chat_app_mode=podman-compose"])
        XCTAssertEqual(compose1.status, 0, compose1.stdout + compose1.stderr)
        XCTAssertEqual(try fleet.output(port, "ls /etc/containers/systemd | grep -c '^chat-' || true"), "0\n", "the quadlet units stayed")
        XCTAssertTrue(try get(port, "http://127.0.0.1:8080/cgi-bin/status").contains("\"status\": \"ok\""))
        let ids = try fleet.output(port, "podman ps -a --filter label=com.docker.compose.project=chat --format '{{.ID}} {{.Names}} {{.State}}' | sort")
        XCTAssertEqual(ids.split(separator: "\n").count, 3, ids)
        let compose2 = try provision(scratch, apply + ["-e", "chat_app_mode=podman-compose"])
        XCTAssertEqual(compose2.status, 0, compose2.stdout + compose2.stderr)
        XCTAssertEqual(compose2.recap("changed"), 0, compose2.stdout)
        XCTAssertEqual(try fleet.output(port, "podman ps -a --filter label=com.docker.compose.project=chat --format '{{.ID}} {{.Names}} {{.State}}' | sort"),
                       ids, "a rerun recreated containers")
    }

    /// Docker Engine with a compose project (`docker compose create`) and a container of its own: the
    /// migration to podman, its --check first.
    func testMigrateDockerHost() throws {
        let port = fleet.hosts[1].port
        let shapes = TestSupport.packageRoot.appendingPathComponent("testhosts/shapes")
        let shaped = try TestSupport.run("/usr/bin/env", ["PROVISION_SHAPES_LIST=" + shapes.appendingPathComponent("compose-fleet").path,
                                                         shapes.appendingPathComponent("apply.sh").path, fleet.folder, "2"])
        guard shaped.status == 0 else { throw TestHostError("the Docker Engine shape failed on th2: \(shaped.stdout)\(shaped.stderr)") }
        let scratch = try Scratch()
        defer { scratch.remove() }
        let inventory = try inventory(port, in: scratch)
        // Docker's containers: the chat project created by docker compose, and legacy-web of no project.
        if try fleet.run(port, "dpkg-query -W -f '${db:Status-Abbrev}' docker.io 2>/dev/null | grep -q '^ii'").status == 0 {
            for name in ["frontend", "backend", "model-standin"] { try copy(ComposeHostTests.images + "/\(name).tar", to: "/var/tmp/chat-app-\(name).tar", port) }
            for name in ["docker-compose.yml", ".env", "backend.env"] { try copy(ComposeHostTests.example + "/" + name, to: "/srv/chat-app/" + name, port) }
            _ = try fleet.output(port, """
            set -e
            docker compose version >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
            for i in frontend backend model-standin; do docker load -q -i /var/tmp/chat-app-$i.tar >/dev/null; done
            cd /srv/chat-app && docker compose create >/dev/null 2>&1
            docker volume create vdata >/dev/null
            docker inspect legacy-web >/dev/null 2>&1 || docker create --name legacy-web -e 'GREETING=hi there' -p 127.0.0.1:8090:8080 \
              -v vdata:/data --restart unless-stopped localhost/chat-app/frontend:1 >/dev/null
            docker ps -a --format '{{.Names}}' | sort | tr '\\n' ' '
            """)
        }
        let migrate = ["apply", playbook("migrate-docker.yml"), "-i", inventory]
        let before = try fleet.output(port, "dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n' | sha256sum; systemctl is-active docker.service; docker ps -a --format '{{.ID}} {{.Names}}' | sort; ls /var/backups 2>&1")
        let check = try provision(scratch, ["check"] + migrate.dropFirst())
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        XCTAssertEqual(try fleet.output(port, "dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n' | sha256sum; systemctl is-active docker.service; docker ps -a --format '{{.ID}} {{.Names}}' | sort; ls /var/backups 2>&1"),
                       before, "--check changed the host")
        for words in ["legacy-web", "chat-frontend-1", "compose projects: chat"] {
            XCTAssertTrue(check.stdout.contains(words), "the plan does not show \(words): \(check.stdout)")
        }

        let first = try provision(scratch, migrate)
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        let state = try fleet.output(port, """
        systemctl is-active docker.service docker.socket || true
        dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n' docker.io 2>/dev/null | grep -c ' ii' || true
        docker --version
        docker ps --format '{{.Names}}' | sort | tr '\\n' ' '
        ls /var/backups/docker-migration/containers
        """)
        XCTAssertTrue(state.hasPrefix("inactive\ninactive\n0\n"), "Docker Engine is still there: \(state)")
        XCTAssertTrue(state.contains("podman version"), "docker is not podman's: \(state)")
        for name in ["chat-backend-1", "chat-frontend-1", "chat-model-1", "legacy-web"] {
            XCTAssertTrue(state.contains(name + " "), "docker ps (podman) does not list \(name): \(state)")
            XCTAssertTrue(state.contains(name + ".tar\n"), "no export of \(name): \(state)")
        }
        XCTAssertTrue(try get(port, "http://127.0.0.1:8080/cgi-bin/status").contains("\"status\": \"ok\""))
        XCTAssertTrue(try fleet.output(port, "podman exec legacy-web env").contains("GREETING=hi there\n"))

        let second = try provision(scratch, migrate)
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
        XCTAssertEqual(second.recap("changed"), 0, second.stdout)
    }

    /// What an HTTP GET from the host itself answers (python3: neither host has wget).
    func get(_ port: Int, _ url: String) throws -> String {
        try fleet.run(port, "python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' \(url)").stdout
    }

    func copy(_ local: String, to remote: String, _ port: Int) throws {
        _ = try fleet.output(port, "mkdir -p \(URL(fileURLWithPath: remote).deletingLastPathComponent().path)")
        let result = try TestSupport.runSpawned("/usr/bin/scp", ["-q", "-o", "BatchMode=yes", "-o", "UserKnownHostsFile=\(fleet.folder)/known_hosts",
                                                               "-i", "\(fleet.folder)/id_ed25519", "-P", "\(port)", local, "root@127.0.0.1:\(remote)"])
        XCTAssertEqual(result.status, 0, result.stderr)
    }
}
