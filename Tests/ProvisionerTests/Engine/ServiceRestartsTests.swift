import Foundation
import XCTest
@testable import Provisioner

/// The engine's batching of unit work: one daemon-reload per manager, one restart and one start command,
/// then a wait that is run here for real against a stand-in `systemctl` (a script answering from a file).
final class ServiceRestartsTests: XCTestCase {
    let alice = SystemdManager(user: "alice", runner: ["run-as", "alice"])

    func testOneReloadPerManagerThenRestartsInDependencyOrder() {
        var restarts = ServiceRestarts()
        restarts.queue([UnitRequest(manager: .system, unit: "app.service", operation: .restart, reload: true, rank: 3)], runAs: nil, origin: "a.yml:1")
        restarts.queue([UnitRequest(manager: .system, unit: "data-volume.service", operation: .restart, reload: true, rank: 1)], runAs: nil, origin: "a.yml:5")
        restarts.queue([UnitRequest(manager: .system, unit: "cache.service", operation: .start, reload: false, rank: 3)], runAs: nil, origin: "a.yml:9")
        restarts.queue([UnitRequest(manager: .system, unit: "app.service", operation: .start, reload: false, rank: 3)], runAs: nil, origin: "a.yml:12")
        restarts.queue([UnitRequest(manager: alice, unit: "web.service", operation: .restart, reload: true, rank: 3, timeout: 30)], runAs: nil, origin: "a.yml:20")
        let groups = restarts.take()
        XCTAssertTrue(restarts.isEmpty)
        XCTAssertEqual(groups.count, 2, "one group per manager")
        let system = ServiceRestarts.commands(groups[0])
        XCTAssertEqual(system.map(\.command.argv).prefix(3), [["systemctl", "daemon-reload"],
                                                             ["systemctl", "restart", "--no-block", "data-volume.service", "app.service"],
                                                             ["systemctl", "start", "--no-block", "cache.service"]])
        XCTAssertEqual(Array(system[3].command.argv.suffix(6)), ["120", "system", "3", "data-volume.service", "app.service", "cache.service"])
        let user = ServiceRestarts.commands(groups[1])
        XCTAssertEqual(user.map(\.label).prefix(2), ["as alice: systemctl --user daemon-reload", "as alice: systemctl --user restart --no-block web.service"])
        XCTAssertEqual(user[0].command.argv, ["run-as", "alice", "systemctl", "--user", "daemon-reload"])
        XCTAssertEqual(Array(user[2].command.argv.suffix(6)), ["30", "user", "1", "web.service", "run-as", "alice"])
        XCTAssertEqual(ServiceRestarts.summary(groups[0]), "the system manager: daemon-reload, (re)started app.service cache.service data-volume.service")
    }

    func testAReloadAloneRestartsNothing() {
        var restarts = ServiceRestarts()
        restarts.queue([UnitRequest(manager: .system, reload: true)], runAs: nil, origin: "a.yml:1")
        XCTAssertEqual(ServiceRestarts.commands(restarts.take()[0]).map(\.command.argv), [["systemctl", "daemon-reload"]])
    }

    /// The wait script with a stand-in systemctl: active units pass; a unit with a queued job is waited
    /// for; a failed one fails with its state and journal; a unit that never settles times out.
    func testTheWaitScript() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provision-wait-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // `systemctl show -p ... -- UNIT` answers from STATE/UNIT (one KEY=VALUE per line); a unit whose file
        // holds "Job=1" becomes active after two asks (its job finishes). journalctl prints a marker.
        let stub = """
        #!/bin/sh
        for a; do u=$a; done
        f=\(folder.path)/$u
        n=$(cat "$f.count" 2>/dev/null || echo 0); echo $((n+1)) > "$f.count"
        if grep -q '^Job=1' "$f" && [ "$n" -ge 2 ]; then printf 'ActiveState=active\\nJob=\\n'; else cat "$f"; fi
        """
        try stub.write(to: folder.appendingPathComponent("systemctl"), atomically: true, encoding: .utf8)
        try "#!/bin/sh\necho journal-tail-of-the-unit\n".write(to: folder.appendingPathComponent("journalctl"), atomically: true, encoding: .utf8)
        for tool in ["systemctl", "journalctl"] {
            XCTAssertEqual(chmod(folder.appendingPathComponent(tool).path, 0o755), 0)
        }
        func wait(_ units: [String: String], timeout: Int = 5) throws -> TestSupport.Result {
            for (unit, state) in units { try state.write(to: folder.appendingPathComponent(unit), atomically: true, encoding: .utf8) }
            let argv = ["-c", ServiceRestarts.waitScript, "wait", String(timeout), "system", String(units.count)] + units.keys.sorted()
                + ["env", "PATH=\(folder.path):/usr/bin:/bin"]
            return try TestSupport.run("/bin/sh", argv, environment: ["PATH": "\(folder.path):/usr/bin:/bin"])
        }
        XCTAssertEqual(try wait(["a.service": "ActiveState=active\nJob=\n"]).status, 0)
        XCTAssertEqual(try wait(["b.service": "ActiveState=inactive\nJob=1\n"]).status, 0, "a queued start is waited for")
        let failed = try wait(["a.service": "ActiveState=active\nJob=\n", "c.service": "ActiveState=failed\nJob=\n"])
        XCTAssertEqual(failed.status, 1)
        XCTAssertTrue(failed.stderr.contains("c.service did not start") && failed.stderr.contains("journal-tail-of-the-unit"), failed.stderr)
        let slow = try wait(["d.service": "ActiveState=activating\nJob=\n"], timeout: 1)
        XCTAssertEqual(slow.status, 1)
        XCTAssertTrue(slow.stderr.contains("d.service is not active after 1 s"), slow.stderr)
    }
}
