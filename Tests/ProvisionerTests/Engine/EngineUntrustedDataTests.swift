import Foundation
import XCTest
@testable import Provisioner

/// Issue 10 #2: what a host says (results, facts, registered values), what a lookup returns and
/// what is tagged `!unsafe` is never rendered as a template again, over the local connection and
/// over ssh. On main at 0e43e5c the play below read `controller-secret.txt` and the controller's
/// environment, rendered the host's `{% %}`, and `echo {{ r.stdout }}` took the host's
/// `chdir=/ creates=/etc/passwd` as arguments (so the task was skipped).
final class EngineUntrustedDataTests: XCTestCase {
    static let canary = "ENV-LEAK-MARK"

    func testHostOutputStaysLiteralThroughEveryPathLocallyAndOverSSH() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        for (path, text) in DifferentialHardeningTests.files { try scratch.write(path, text) }
        try scratch.write("play.yml", DifferentialHardeningTests.injectionPlay)
        let host = DifferentialHardeningTests.hostOutput
        let lines = host.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        var environment = ProcessInfo.processInfo.environment
        environment["PROVISION_CANARY"] = Self.canary
        var trees: [String: [String]] = [:]
        try HardeningTarget.each(scratch) { label, inventory in
            let out = scratch.path("out-" + label)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let run = try scratch.provision(["apply", "play.yml", "-i", inventory, "-e", "root=\(out)"], environment: environment)
            let output = run.stdout + run.stderr
            XCTAssertEqual(run.status, 0, "[\(label)] \(output)")
            XCTAssertTrue(output.contains("ignored=1"), "[\(label)] the untrusted condition must fail (ignored): \(output)")
            func file(_ name: String) -> String? { scratch.read("out-\(label)/\(name)") }
            XCTAssertEqual(file("registered"), host, label)
            XCTAssertEqual(file("set_fact"), host, label)
            XCTAssertEqual(file("lookup"), host, label)
            XCTAssertEqual(file("concatenated"), "a" + lines[0] + "\n", label)
            XCTAssertEqual(file("filtered"), ">" + host, label)
            XCTAssertEqual(file("structured"), lines[1] + "|" + lines.joined(separator: "|") + "\n", label)
            XCTAssertEqual(file("lazy"), host + "trusted 2 " + lines[0] + "\n", label)
            XCTAssertEqual(file("unsafe"), """
                {{ 'INJ' ~ 'ECTED' }}
                {{ 'INJ' ~ 'ECTED' }}
                {% if true %}{{ 'RENDER' ~ 'ED' }}{% endif %}
                {{ 'INJ' ~ 'ECTED' }} 42

                """, label)
            for (index, line) in lines.enumerated() { XCTAssertEqual(file("loop-\(index)"), line + "\n", "\(label) item \(index)") }
            XCTAssertEqual(file("template"), host + host + lines.map { "[\($0)]\n" }.joined(), label)
            XCTAssertEqual(file("template_lookup"), "[" + lines[2] + "]\n", label)
            for (index, line) in lines.prefix(2).enumerated() {
                XCTAssertEqual(file("included-\(index)"), line + "\n", "\(label) include \(index)")
                XCTAssertEqual(file("with_items-\(index)"), line + "|" + lines[0] + "\n", "\(label) with_items \(index)")
            }
            XCTAssertEqual(file("lineinfile"), host, label)
            XCTAssertEqual(file("kv"), "x chdir=/ creates=/etc/passwd\n", label)
            XCTAssertNil(file("untrusted-condition"), label)
            XCTAssertEqual(file("trusted-condition"), "evaluated\n", label)
            let tree = try AnsibleDifferential.tree(URL(fileURLWithPath: out))
            for text in DifferentialHardeningTests.forbidden + [Self.canary] {
                XCTAssertFalse(output.contains(text), "[\(label)] the output shows '\(text)': \(output)")
                XCTAssertFalse(tree.contains { $0.contains(text) }, "[\(label)] a file holds '\(text)'")
            }
            trees[label] = tree
        }
        XCTAssertEqual(trees["ssh"], trees["local"], "ssh and local runs must leave the same files")
    }

    /// Gathered facts are the host's data: `$HOME` becomes `ansible_user_dir`.
    func testFactsAreNotRendered() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("play.yml", """
            - hosts: all
              tasks:
                - copy: {dest: "{{ playbook_dir }}/facts", content: "{{ ansible_user_dir }}|{{ ansible_facts.user_dir }}\\n"}
            """)
        let home = "/nonexistent/{{ 'INJ' ~ 'ECTED' }}"
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = home
        let run = try scratch.provision(["apply", "play.yml", "-i", try HardeningTarget.inventory(in: scratch, server: nil)],
                                        environment: environment)
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertEqual(scratch.read("facts"), "\(home)|\(home)\n")
    }

    func testKeyValueWordsKeepTemplatesWhole() {
        let words = KeyValueArguments.words("path={{ a | default('x y') }} state={% if b %}absent{% else %}file{% endif %} {# c d #}")
        XCTAssertEqual(words.map(\.text), ["path={{ a | default('x y') }}", "state={% if b %}absent{% else %}file{% endif %}", "{# c d #}"])
    }
}
