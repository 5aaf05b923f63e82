import Foundation
import XCTest
@testable import Provisioner

/// The other half of issue 10 #8: re-reading only what a change can affect must still
/// re-read everything it does affect. Each play changes a path in one task and looks at
/// it another way in the next (through a linked folder, a link, a hard link, the parent
/// folder, a command probe); the second task must see the change. Over the local
/// connection and over ssh (a private sshd on this machine).
final class ObservationInvalidationTests: XCTestCase {
    struct Scenario {
        var name: String
        /// Shell commands run in ROOT before the play.
        var setup: String
        var tasks: String
        /// Status of each named task.
        var expected: [String: String]
        /// Files (relative to ROOT) and their content afterwards.
        var files: [String: String] = [:]
    }

    static let scenarios: [Scenario] = [
        Scenario(name: "a write seen through a linked folder",
                 setup: "mkdir real && ln -s real linked && printf 'a\\n' > real/f",
                 tasks: """
                     - {name: one, copy: {dest: ROOT/real/f, content: "a\\nb\\n"}}
                     - {name: two, lineinfile: {path: ROOT/linked/f, line: c}}
                     """,
                 expected: ["one": "changed", "two": "changed"], files: ["real/f": "a\nb\nc\n"]),
        Scenario(name: "a write seen through a link to the file",
                 setup: "printf 'x\\n' > target && ln -s target alias",
                 tasks: """
                     - {name: one, file: {path: ROOT/target, mode: "0600"}}
                     - {name: two, file: {path: ROOT/alias, mode: "0600"}}
                     """,
                 expected: ["one": "changed", "two": "ok"]),
        Scenario(name: "attributes seen through a hard link",
                 setup: "printf 'x\\n' > a && chmod 644 a && ln a b",
                 tasks: """
                     - {name: one, file: {path: ROOT/a, mode: "0600"}}
                     - {name: two, file: {path: ROOT/b, mode: "0600"}}
                     """,
                 expected: ["one": "changed", "two": "ok"]),
        Scenario(name: "a folder made, then a file in it",
                 setup: "true",
                 tasks: """
                     - {name: one, file: {path: ROOT/d/e, state: directory}}
                     - {name: two, copy: {dest: ROOT/d/e/f, content: "in"}}
                     """,
                 expected: ["one": "changed", "two": "changed"], files: ["d/e/f": "in"]),
        Scenario(name: "a folder removed with what is in it",
                 setup: "mkdir -p gone/sub && printf 'x' > gone/sub/f",
                 tasks: """
                     - {name: one, file: {path: ROOT/gone, state: absent}}
                     - {name: two, file: {path: ROOT/gone/sub/f, state: absent}}
                     """,
                 expected: ["one": "changed", "two": "ok"]),
        Scenario(name: "a file a command probe looks for",
                 setup: "true",
                 tasks: """
                     - {name: one, copy: {dest: ROOT/marker, content: "m"}}
                     - {name: two, command: {cmd: "touch ROOT/ran", creates: "ROOT/mark*"}}
                     """,
                 expected: ["one": "changed", "two": "ok"]),
        Scenario(name: "a link replaced, then a path through it",
                 setup: "mkdir one two && printf '1' > one/f && printf '2' > two/f && ln -s one via",
                 tasks: """
                     - {name: one, file: {path: ROOT/via, src: two, state: link, force: true}}
                     - {name: two, copy: {dest: ROOT/via/f, content: "2"}}
                     """,
                 expected: ["one": "changed", "two": "ok"], files: ["one/f": "1", "two/f": "2"]),
    ]

    func play(_ scenario: Scenario, root: String) -> String {
        """
        - hosts: all
          gather_facts: false
          tasks:
        \(scenario.tasks.replacingOccurrences(of: "ROOT", with: root).split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        """
    }

    func check(inventory: (Scratch) throws -> String) throws {
        for scenario in Self.scenarios {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let root = scratch.path("root")
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            let setup = try TestSupport.run("/bin/sh", ["-c", scenario.setup], in: URL(fileURLWithPath: root))
            XCTAssertEqual(setup.status, 0, setup.stderr)
            try scratch.write("play.yml", play(scenario, root: root))
            let result = try scratch.provision(["apply", "play.yml", "-i", try inventory(scratch), "--json"])
            XCTAssertEqual(result.status, 0, "\(scenario.name): \(result.stdout) \(result.stderr)")
            var statuses: [String: String] = [:]
            for task in result.tasks { statuses[task["task"] as? String ?? ""] = task["status"] as? String }
            XCTAssertEqual(statuses, scenario.expected, scenario.name)
            for (file, content) in scenario.files {
                XCTAssertEqual(scratch.read("root/" + file), content, "\(scenario.name): \(file)")
            }
        }
    }

    func testLocal() throws {
        try check { scratch in try scratch.write("hosts.ini", "h ansible_connection=local\n") }
    }

    func testSSH() throws {
        let server = try SSHTestServer.start()
        try check { scratch in try scratch.write("hosts.yml", server.inventory(["h"])) }
    }
}
