import XCTest
@testable import Provisioner

/// `reboot` over ssh against a real private sshd. The host's reboot is played by the test: the
/// reboot command only leaves a mark; the test then gives the host a new boot id, kills every ssh
/// session and the listener, and starts sshd again two seconds later. provision must reconnect
/// through its transport, see the new boot id, run test_command and go on with the next task.
final class EngineRebootTests: XCTestCase {
    /// A scratch folder with host `box` served by `server` and its boot id file.
    func host(_ server: SSHTestServer, bootID: String) throws -> Scratch {
        let scratch = try Scratch()
        try scratch.write("boot_id", bootID)
        var inventory = "box"
        for (key, value) in server.variables() { inventory += " \(key)=\"\(value.pythonText)\"" }
        try scratch.write("hosts.ini", inventory + "\n")
        return scratch
    }

    func testRebootWaitsForTheHostAndReconnects() throws {
        let server = try SSHTestServer.start()
        let scratch = try host(server, bootID: "first\n")
        defer { scratch.remove() }
        let bootID = scratch.path("boot_id"), mark = scratch.path("reboot-requested")
        try scratch.write("play.yml", """
        - hosts: box
          gather_facts: false
          tasks:
            - reboot:
                reboot_command: "touch \(mark)"
                boot_time_command: "cat \(bootID)"
                test_command: "test -s \(bootID)"
                reboot_timeout: 60
              register: r
            - copy: {dest: "\(scratch.path("after"))", content: "{{ r.rebooted }} {{ r.elapsed >= 2 }}\\n"}
        """)

        let rebooted = expectation(description: "the host was rebooted")
        let watcher = Thread {
            let deadline = Date().addingTimeInterval(60)
            while !FileManager.default.fileExists(atPath: mark), Date() < deadline { usleep(50_000) }
            server.killSessions()
            server.stop()
            Thread.sleep(forTimeInterval: 2)
            // The new boot id only with the new sshd: a session that outlived the kill still sees the old one.
            try? "second\n".write(toFile: bootID, atomically: true, encoding: .utf8)
            try? server.launch()
            rebooted.fulfill()
        }
        watcher.start()
        let result = try scratch.provision(["apply", scratch.path("play.yml"), "-i", scratch.path("hosts.ini")])
        wait(for: [rebooted], timeout: 70)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertEqual(scratch.read("after"), "True True\n", "the task after the reboot ran on the new session")
        XCTAssertTrue(FileManager.default.fileExists(atPath: mark), "the reboot command ran")
    }

    func testRebootTimesOutWhenTheHostKeepsItsBootID() throws {
        let server = try SSHTestServer.start()
        let scratch = try host(server, bootID: "same\n")
        defer { scratch.remove() }
        try scratch.write("play.yml", """
        - hosts: box
          gather_facts: false
          tasks:
            - reboot: {reboot_command: "echo", boot_time_command: "cat \(scratch.path("boot_id"))", reboot_timeout: 3}
        """)
        let result = try scratch.provision(["apply", scratch.path("play.yml"), "-i", scratch.path("hosts.ini")])
        XCTAssertEqual(result.status, 2, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("the host did not come back with a new boot id within reboot_timeout (3 s)"), result.stdout)
    }
}
