import Foundation
import XCTest

/// Malformed playbooks and inventories: one clear error naming file:line, exit
/// status 1, and nothing changed (a task before the bad one would create a marker).
final class EngineMalformedTests: XCTestCase {
    static let marker = """
        - name: would create the marker
          copy: {dest: "{{ playbook_dir }}/marker", content: "x"}

    """.trimmingCharacters(in: .newlines) + "\n"

    struct Case {
        var name: String
        var tasks: String
        var play = ""
        var expected: String
        var line: Int
        var files: [String: String] = [:]
        var inventory: String?
    }

    /// The playbook is: play header (lines 1-3), `tasks:` (4), the marker task (5-6),
    /// the case's tasks from line 7, then the case's play keywords.
    static let cases: [Case] = [
        Case(name: "unknown module", tasks: "    - copyy: {dest: /tmp/x, content: y}\n", expected: "'copyy' is neither a module nor a task keyword (did you mean 'copy'?)", line: 7),
        Case(name: "misspelt argument", tasks: "    - copy: {dest: /tmp/x, contnet: y}\n", expected: "has no argument 'contnet' (did you mean 'content'?)", line: 7),
        Case(name: "wrong type", tasks: "    - file: {path: /tmp/x, mode: [1]}\n", expected: "must be a file mode", line: 7),
        Case(name: "bad choice", tasks: "    - file: {path: /tmp/x, state: directroy}\n", expected: "(did you mean 'directory'?)", line: 7),
        Case(name: "bad boolean", tasks: "    - copy: {dest: /tmp/x, content: y, backup: maybe}\n", expected: "must be a boolean", line: 7),
        Case(name: "undefined variable", tasks: "    - copy: {dest: \"{{ nowhere_defined }}\", content: y}\n", expected: "'nowhere_defined' is undefined", line: 7),
        Case(name: "undefined variable in when", tasks: "    - copy: {dest: /tmp/x, content: y}\n      when: not_there == 1\n", expected: "'not_there' is undefined", line: 7),
        Case(name: "unknown filter", tasks: "    - copy: {dest: \"/tmp/{{ 'x' | lowr }}\", content: y}\n", expected: "lowr", line: 7),
        Case(name: "bad loop", tasks: "    - copy: {dest: /tmp/x, content: y}\n      loop: 5\n", expected: "'loop' takes a list", line: 8),
        Case(name: "loop over text", tasks: "    - copy: {dest: /tmp/x, content: y}\n      loop: \"{{ just_text }}\"\n", play: "  vars: {just_text: abc}\n", expected: "The `loop` value must resolve to a 'list'", line: 7),
        Case(name: "two loops", tasks: "    - copy: {dest: /tmp/x, content: y}\n      loop: [1]\n      with_items: [2]\n", expected: "a task has one loop; this one has loop and with_items", line: 9),
        Case(name: "two modules", tasks: "    - copy: {dest: /tmp/x, content: y}\n      file: {path: /tmp/x}\n", expected: "names 'copy' and 'file'", line: 8),
        Case(name: "no module", tasks: "    - name: nothing to do\n      when: true\n", expected: "names no module", line: 7),
        Case(name: "missing file to import", tasks: "    - import_tasks: nowhere.yml\n", expected: "import_tasks: no file", line: 7),
        Case(name: "missing vars file", tasks: "", play: "  vars_files: [nowhere.yml]\n", expected: "vars file", line: 1),
        Case(name: "missing template source", tasks: "    - template: {src: nowhere.j2, dest: /tmp/x}\n", expected: "could not find 'nowhere.j2'", line: 7),
        Case(name: "register name", tasks: "    - copy: {dest: /tmp/x, content: y}\n      register: 1abc\n", expected: "'register' must be a variable name", line: 8),
        Case(name: "loop_control key", tasks: "    - copy: {dest: /tmp/x, content: y}\n      loop: [1]\n      loop_control: {loopvar: x}\n", expected: "(did you mean 'loop_var'?)", line: 9),
        Case(name: "misspelt play keyword", tasks: "", play: "  taks: []\n", expected: "'taks' is not a play keyword (did you mean 'tags' or 'tasks'?)", line: 7),
        Case(name: "become not boolean", tasks: "", play: "  become: maybe\n", expected: "'become' must be yes/no", line: 7),
        Case(name: "unknown handler", tasks: "    - copy: {dest: /tmp/x, content: y}\n      notify: restart nothing\n", expected: "no handler 'restart nothing'", line: 8),
        Case(name: "YAML syntax", tasks: "    - copy: {dest: \"/tmp/x, content: y}\n", expected: "unterminated double-quoted string", line: 8),
        Case(name: "duplicate key", tasks: "    - copy: {dest: /tmp/x, content: y}\n      name: a\n      name: b\n", expected: "duplicate key 'name'", line: 9),
        Case(name: "tab indentation", tasks: "    - copy:\n\tdest: /tmp/x\n", expected: "tabs cannot be used for indentation", line: 8),
        Case(name: "string arguments without '='", tasks: "    - file: path=/tmp/x directory\n", expected: "expected key=value", line: 7),
        Case(name: "bad mode text", tasks: "    - file: {path: /tmp/x, state: touch, mode: \"999\"}\n", expected: "must be a file mode", line: 7),
        Case(name: "when syntax", tasks: "    - copy: {dest: /tmp/x, content: y}\n      when: x ==\n", play: "  vars: {x: 1}\n", expected: "unexpected end of template", line: 7),
        Case(name: "port out of range in the inventory", tasks: "", expected: "port 66044 is out of range", line: 1,
             inventory: "target ansible_connection=local ansible_port=66044\n"),
    ]

    func playbook(_ c: Case) -> String {
        "- name: malformed\n  hosts: \(c.inventory == nil ? "localhost" : "all")\n  gather_facts: false\n"
            + "  tasks:\n" + EngineMalformedTests.marker + c.tasks + c.play
    }

    func testEachMalformedPlaybookGivesOneErrorWithItsLineAndChangesNothing() throws {
        XCTAssertGreaterThanOrEqual(EngineMalformedTests.cases.count, 25)
        for c in EngineMalformedTests.cases {
            let scratch = try Scratch()
            defer { scratch.remove() }
            try scratch.write("play.yml", playbook(c))
            var arguments = ["apply", "play.yml"]
            if let inventory = c.inventory {
                try scratch.write("hosts.ini", inventory)
                arguments += ["-i", "hosts.ini"]
            }
            let run = try scratch.provision(arguments)
            XCTAssertEqual(run.status, 1, "\(c.name): exit \(run.status)\n\(run.stdout)\(run.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.path + "/marker"), "\(c.name): something changed before the error")
            let errorLines = run.stderr.split(separator: "\n").filter { $0.hasPrefix("provision: ") }
            XCTAssertEqual(errorLines.count, 1, "\(c.name): \(run.stderr)")
            let file = c.inventory == nil ? "play.yml" : "hosts.ini"
            XCTAssertTrue(run.stderr.contains("\(file):\(c.line):"), "\(c.name): no \(file):\(c.line): in \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(c.expected), "\(c.name): '\(c.expected)' not in \(run.stderr)")
        }
    }
}
