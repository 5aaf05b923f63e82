import Foundation
import XCTest
@testable import Provisioner

/// Issue 10, "one apply per host at a time": two applies against one host at once lost
/// lineinfile updates. Each session now takes the host's lock in its first round trip; the
/// second apply waits (saying for whom) up to --lock-timeout, then fails. Over the local
/// connection and ssh: both lock the same file on this machine (the private sshd runs here).
final class HostLockTests: XCTestCase {
    /// A play adding `count` lines `PREFIX0..` to `file`, one loop item each.
    func lines(_ prefix: String, _ count: Int, to file: String, first: String = "") -> String {
        """
        - hosts: all
          gather_facts: false
          tasks:
        \(first)
            - lineinfile: {path: "\(file)", line: "\(prefix){{ item }}", create: true}
              loop: "{{ range(0, \(count)) | list }}"
        """
    }

    /// Starts `provision ARGS` in the scratch folder, output to files; returns a waiter.
    func start(_ scratch: Scratch, _ arguments: [String], name: String) throws -> () -> TestSupport.Result {
        let process = Process()
        process.executableURL = try TestSupport.provisionBinary()
        process.arguments = arguments
        process.currentDirectoryURL = scratch.root
        let out = scratch.root.appendingPathComponent("\(name).out"), err = scratch.root.appendingPathComponent("\(name).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return {
            process.waitUntilExit()
            return TestSupport.Result(status: process.terminationStatus,
                                      stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                                      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
        }
    }

    /// The lock file of this machine for root, as the local connection and the sshd sessions take it.
    var lockFile: String { "/run/provision.lock" }

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("the host lock tests run as root (the lock file is /run/provision.lock)") }
    }

    func twoConcurrentApplies(inventory: (Scratch) throws -> String) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = scratch.path("lines")
        try scratch.write("a.yml", lines("a", 100, to: file))
        try scratch.write("b.yml", lines("b", 100, to: file))
        let inventory = try inventory(scratch)
        let a = try start(scratch, ["apply", "a.yml", "-i", inventory, "--json"], name: "a")
        let b = try start(scratch, ["apply", "b.yml", "-i", inventory, "--json"], name: "b")
        for (label, result) in [("a", a()), ("b", b())] {
            XCTAssertEqual(result.status, 0, "\(label): \(result.stdout) \(result.stderr)")
            XCTAssertEqual(result.recap("changed"), 1, label)
            XCTAssertEqual(result.tasks.filter { $0["status"] as? String == "changed" }.count, 100, label)
        }
        let written = Set((scratch.read("lines") ?? "").split(separator: "\n").map(String.init))
        let wanted = Set((0..<100).flatMap { ["a\($0)", "b\($0)"] })
        XCTAssertEqual(wanted.subtracting(written), [], "lines lost")
        XCTAssertEqual(written.count, 200)
    }

    /// The second apply waits for the first, saying whose apply it waits for.
    func waitingIsExplained(inventory: (Scratch) throws -> String) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = scratch.path("lines")
        try scratch.write("a.yml", lines("a", 5, to: file, first: "    - command: sleep 3"))
        try scratch.write("b.yml", lines("b", 5, to: file))
        let inventory = try inventory(scratch)
        let a = try start(scratch, ["apply", "a.yml", "-i", inventory], name: "a")
        try waitForHolder(containing: "a", in: scratch)
        let b = try start(scratch, ["apply", "b.yml", "-i", inventory], name: "b")
        let (first, second) = (a(), b())
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
        XCTAssertTrue(second.stderr.contains("h: waiting for the apply started at "), second.stderr)
        XCTAssertTrue(second.stderr.contains("to finish (up to 60 s, --lock-timeout)"), second.stderr)
        XCTAssertEqual(Set((scratch.read("lines") ?? "").split(separator: "\n")).count, 10)
    }

    /// Waits until the lock file names the apply started as `name` (its pid is in the holder's text).
    func waitForHolder(containing name: String, in scratch: Scratch) throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: lockFile, encoding: .utf8), text.contains("(pid "),
               let pid = text.split(separator: "(pid ").last.flatMap({ pid_t($0.prefix { $0.isNumber }) }),
               let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
               command.contains("\(name).yml") {
                return
            }
            usleep(50_000)
        }
        XCTFail("the first apply never took the lock")
    }

    /// Another holder that does not let go: the apply fails after --lock-timeout, naming it.
    func timeoutFailsClearly(inventory: (Scratch) throws -> String) throws {
        guard let flock = TestSupport.which("flock") else { throw XCTSkip("flock is not installed (util-linux)") }
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("a.yml", lines("a", 1, to: scratch.path("lines")))
        let inventory = try inventory(scratch)
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: flock)
        holder.arguments = [lockFile, "-c", "printf 'other-run the apply started at 2026-01-01 00:00:00 UTC by ops@elsewhere (pid 1)\\n' > \(lockFile); sleep 5"]
        try holder.run()
        defer { holder.terminate(); holder.waitUntilExit() }
        // Until the holder has said who it is, the file still names the apply before it (slow under load).
        let waitFrom = Date()
        while !((try? String(contentsOfFile: lockFile, encoding: .utf8))?.hasPrefix("other-run") ?? false) {
            guard Date().timeIntervalSince(waitFrom) < 10 else { return XCTFail("the other holder never took the lock") }
            usleep(50_000)
        }
        let started = Date()
        let run = try scratch.provision(["apply", "a.yml", "-i", inventory, "--lock-timeout", "2"])
        XCTAssertEqual(run.status, 4, run.stdout + run.stderr)
        XCTAssertTrue(run.stdout.contains("another apply is running there: the apply started at 2026-01-01 00:00:00 UTC"
            + " by ops@elsewhere (pid 1) holds the host lock; gave up after 2 s (--lock-timeout)"), run.stdout)
        XCTAssertLessThan(Date().timeIntervalSince(started), 7)
        XCTAssertNil(scratch.read("lines"))
    }

    func testHolderStampIsUTC() {
        XCTAssertEqual(HostLock.utcStamp(0), "1970-01-01 00:00:00 UTC")
        XCTAssertEqual(HostLock.utcStamp(1_796_333_222), "2026-12-03 21:27:02 UTC")
        XCTAssertTrue(HostLock.defaultHolder.hasPrefix("the apply started at 20"), HostLock.defaultHolder)
    }

    func testLocalConcurrentAppliesKeepEveryLine() throws {
        try twoConcurrentApplies { try $0.write("hosts.ini", "h ansible_connection=local\n") }
    }

    func testSSHConcurrentAppliesKeepEveryLine() throws {
        let server = try SSHTestServer.start()
        try twoConcurrentApplies { try $0.write("hosts.yml", server.inventory(["h"])) }
    }

    func testLocalWaitIsExplained() throws {
        try waitingIsExplained { try $0.write("hosts.ini", "h ansible_connection=local\n") }
    }

    func testSSHWaitIsExplained() throws {
        let server = try SSHTestServer.start()
        try waitingIsExplained { try $0.write("hosts.yml", server.inventory(["h"])) }
    }

    func testLocalTimeoutFailsClearly() throws {
        try timeoutFailsClearly { try $0.write("hosts.ini", "h ansible_connection=local\n") }
    }

    func testSSHTimeoutFailsClearly() throws {
        let server = try SSHTestServer.start()
        try timeoutFailsClearly { try $0.write("hosts.yml", server.inventory(["h"])) }
    }

    /// One run reaching a host as two users (become), under two names and over both connections
    /// holds one lock: its sessions join it rather than wait for themselves.
    func testOneRunJoinsItsOwnLock() throws {
        let server = try SSHTestServer.start()
        let scratch = try Scratch()
        defer { scratch.remove() }
        var inventory = server.inventory(["s1", "s2"])
        inventory = inventory.replacingOccurrences(of: "{\"all\": {\"hosts\": {", with: "{\"all\": {\"hosts\": {\"l1\": {\"ansible_connection\": \"local\"}, ")
        try scratch.write("hosts.yml", inventory)
        try scratch.write("play.yml", """
            - hosts: all
              gather_facts: false
              become: true
              tasks:
                - copy: {dest: "\(scratch.path)/{{ inventory_hostname }}.root", content: "r"}
                - copy: {dest: "\(scratch.path)/{{ inventory_hostname }}.login", content: "l"}
                  become: false
            """)
        let started = Date()
        let run = try scratch.provision(["apply", "play.yml", "-i", "hosts.yml", "--lock-timeout", "20", "--forks", "3"])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertFalse(run.stderr.contains("waiting for"), run.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 15)
        for host in ["l1", "s1", "s2"] {
            XCTAssertEqual(scratch.read("\(host).root"), "r", host)
            XCTAssertEqual(scratch.read("\(host).login"), "l", host)
        }
    }
}
