import Foundation
import XCTest

/// Issue 10 #5: a NUL byte in an argument is refused with the task's file:line before the host
/// changes: at validate time when written in the play, at run time when a template renders it.
/// On main at 0e43e5c `path: "/x/victim\0.bak"` removed `/x/victim` locally, and over ssh the
/// host was reported unreachable.
final class EngineNULTests: XCTestCase {
    func testNULInAnArgumentIsRefusedAndTheHostKeptAsItWas() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let victim = scratch.path("victim")
        try scratch.write("victim", "keep\n")
        try scratch.write("literal.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - file: {path: "\(victim)\\0.bak", state: absent}
            """)
        try scratch.write("kv.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - command: "rm -f \(victim)\\0.bak"
            """)
        try scratch.write("rendered.yml", """
            - hosts: all
              gather_facts: false
              vars:
                suffix: "\\0.bak"
              tasks:
                - file: {path: "{{ playbook_dir }}/victim{{ suffix }}", state: absent}
            """)
        for (file, line) in [("literal.yml", 4), ("kv.yml", 4)] {
            let run = try scratch.provision(["validate", file])
            XCTAssertEqual(run.status, 1, run.stdout + run.stderr)
            XCTAssertTrue(run.stderr.contains("\(file):\(line):") && run.stderr.contains("NUL"), run.stderr)
        }
        try HardeningTarget.each(scratch) { label, inventory in
            for (file, line) in [("literal.yml", 4), ("kv.yml", 4), ("rendered.yml", 6)] {
                let run = try scratch.provision(["apply", file, "-i", inventory])
                XCTAssertEqual(run.status, 1, "[\(label) \(file)] \(run.stdout + run.stderr)")
                XCTAssertTrue(run.stderr.contains("\(file):\(line):") && run.stderr.contains("NUL"), "[\(label) \(file)] \(run.stderr)")
                XCTAssertFalse(run.stdout.contains("UNREACHABLE"), "[\(label) \(file)] \(run.stdout)")
                XCTAssertEqual(scratch.read("victim"), "keep\n", "[\(label) \(file)] the victim was touched")
            }
        }
    }
}
