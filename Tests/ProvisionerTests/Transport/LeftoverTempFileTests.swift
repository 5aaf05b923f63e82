import Foundation
import XCTest

/// Issue 10 #10: temp files a killed apply left (`.NAME.provision-XXXXXX`) are removed by the
/// next run that looks at their folder, in a round trip it makes anyway, and said so under -v.
/// Only ours (by name) and only stale ones: a temp file newer than the run's host lock is
/// another writer's, live. Check mode removes nothing.
final class LeftoverTempFileTests: XCTestCase {
    func check(inventory: (Scratch) throws -> String) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let folder = scratch.path("data")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try scratch.write("data/f", "old")
        let stale = [".f.provision-Ab12Cd", ".g.provision-zz99YY"]
        let kept = [".h.provision-Live01", ".f.provision-toolong", "f.provision-Ab12Cd", ".f.provisionX-Ab12Cd"]
        for name in stale + kept { try scratch.write("data/" + name, "partial") }
        for name in stale + kept where name != ".h.provision-Live01" { try age(scratch.path("data/" + name), by: -3600) }
        // Newer than any lock this run takes: another apply's temp file, being written.
        try age(scratch.path("data/.h.provision-Live01"), by: 3600)
        try scratch.write("play.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - copy: {dest: "\(folder)/f", content: "new"}
            """)
        let inventory = try inventory(scratch)

        let check = try scratch.provision(["check", "play.yml", "-i", inventory, "-v"])
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        XCTAssertEqual(Set(try listing(folder)), Set(stale + kept + ["f"]), "check mode removes nothing")

        let apply = try scratch.provision(["apply", "play.yml", "-i", inventory, "-v"])
        XCTAssertEqual(apply.status, 0, apply.stdout + apply.stderr)
        XCTAssertEqual(Set(try listing(folder)), Set(kept + ["f"]))
        XCTAssertEqual(scratch.read("data/f"), "new")
        let note = apply.stderr.split(separator: "\n").first { $0.contains("temporary file") } ?? ""
        XCTAssertTrue(note.contains("h: removed 2 temporary file(s) an interrupted run left"), apply.stderr)
        for name in stale { XCTAssertTrue(note.contains("\(folder)/\(name)"), String(note)) }

        // Without -v the removal is silent.
        for name in stale { try scratch.write("data/" + name, "partial"); try age(scratch.path("data/" + name), by: -3600) }
        let quiet = try scratch.provision(["apply", "play.yml", "-i", inventory])
        XCTAssertEqual(quiet.status, 0, quiet.stdout + quiet.stderr)
        XCTAssertFalse(quiet.stderr.contains("temporary file"), quiet.stderr)
        XCTAssertEqual(Set(try listing(folder)), Set(kept + ["f"]))
    }

    func listing(_ folder: String) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: folder) }

    func age(_ path: String, by seconds: Int) throws {
        let time = Date().addingTimeInterval(TimeInterval(seconds))
        try FileManager.default.setAttributes([.modificationDate: time], ofItemAtPath: path)
    }

    func testLocal() throws {
        try check { scratch in try scratch.write("hosts.ini", "h ansible_connection=local\n") }
    }

    func testSSH() throws {
        let server = try SSHTestServer.start()
        try check { scratch in try scratch.write("hosts.yml", server.inventory(["h"])) }
    }
}
