import Foundation
import XCTest

/// Issue 10 #3 and issue 9 §1: with `no_log`, no argument, item, result or error of the task
/// reaches any output, in every output mode, over the local connection and ssh. On main at 0e43e5c
/// the loop item, an owner taken from a variable (failure message), a bad mode from a variable
/// (pre-run check) and a `debug` value under -v were printed.
final class EngineNoLogTests: XCTestCase {
    static let secret = DifferentialHardeningTests.secret

    /// Every task kind that can show a secret, plus those Ansible itself leaks in its error lines.
    static let play = DifferentialHardeningTests.noLogPlay + """

        - hosts: all
          gather_facts: false
          vars:
            pw: \(secret)
          tasks:
            - file: {path: "{{ root }}/secret", owner: "{{ pw }}"}
              no_log: true
              ignore_errors: true
            - fail: {msg: "{{ pw }}"}
              no_log: true
              ignore_errors: true
            - assert: {that: ["pw == 'other'"], fail_msg: "{{ pw }}"}
              no_log: true
              ignore_errors: true
            - copy: {dest: "{{ root }}/skipped-{{ item }}", content: "{{ item }}"}
              loop: ["{{ pw }}"]
              when: false
              no_log: true
            - block:
                - include_tasks: "{{ pw }}.yml"
              rescue:
                - copy: {dest: "{{ root }}/rescued", content: "{{ ansible_failed_result | default('') }}"}
              no_log: true
        """

    static let modes: [[String]] = [[], ["-v"], ["-vvv"], ["--diff"], ["-vvv", "--diff"], ["--json"], ["--json", "--diff", "-vvv"],
                                    ["--check", "--diff", "-vvv"], ["--check", "--json"]]

    func testTheSecretReachesNoOutputModeLocallyOrOverSSH() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("play.yml", Self.play)
        var runs = 0
        try HardeningTarget.each(scratch) { label, inventory in
            for mode in Self.modes {
                let out = scratch.path("out-\(label)-\(runs)")
                runs += 1
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                let run = try scratch.provision(["apply", "play.yml", "-i", inventory, "-e", "root=\(out)"] + mode)
                let output = run.stdout + run.stderr
                let what = "[\(label) \(mode.joined(separator: " "))]"
                XCTAssertEqual(run.status, 0, "\(what) \(output)")
                XCTAssertFalse(output.contains(Self.secret), "\(what) the secret is shown: \(output)")
                // Not vacuous: the tasks ran, and their reports are there, censored.
                XCTAssertTrue(output.contains(mode.contains("--json") ? "\"no_log\": true" : "censored due to no_log"), "\(what) \(output)")
                XCTAssertTrue(output.contains("rescued=1") || output.contains("\"rescued\": 1"), "\(what) \(output)")
                if !mode.contains("--check") { XCTAssertEqual(scratch.read("out-\(label)-\(runs - 1)/item-1"), Self.secret + "\n") }
            }
        }
    }

    /// Errors found before the run (`validate`, the pre-run check) say where, never what.
    func testErrorsBeforeTheRunHideTheSecret() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("literal.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - file: {path: /tmp/x, mode: "\(Self.secret)"}
                  no_log: true
            """)
        try scratch.write("kv.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - file: "path=/tmp/x \(Self.secret)"
                  no_log: "{{ hide }}"
            """)
        try scratch.write("rendered.yml", """
            - hosts: all
              gather_facts: false
              vars:
                pw: \(Self.secret)
              tasks:
                - file: {path: /tmp/x, mode: "{{ pw }}"}
                  no_log: true
            """)
        for (file, line) in [("literal.yml", 4), ("kv.yml", 4)] {
            let run = try scratch.provision(["validate", file])
            XCTAssertEqual(run.status, 1, run.stdout + run.stderr)
            XCTAssertFalse((run.stdout + run.stderr).contains(Self.secret), run.stderr)
            XCTAssertTrue(run.stderr.contains("\(file):\(line):"), run.stderr)
            XCTAssertTrue(run.stderr.contains("hidden because the task has no_log"), run.stderr)
        }
        try HardeningTarget.each(scratch) { label, inventory in
            for arguments in [["--json"], ["-vvv", "--diff"]] {
                let run = try scratch.provision(["apply", "rendered.yml", "-i", inventory] + arguments)
                XCTAssertEqual(run.status, 1, "[\(label)] \(run.stdout + run.stderr)")
                XCTAssertFalse((run.stdout + run.stderr).contains(Self.secret), "[\(label)] \(run.stdout + run.stderr)")
                XCTAssertTrue(run.stderr.contains("rendered.yml:6:"), "[\(label)] \(run.stderr)")
            }
        }
    }
}
