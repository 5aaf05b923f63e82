import XCTest
@testable import Provisioner

/// The pieces under INI values: Python's literal_eval and shlex.split, case by case
/// against what CPython 3 returns.
final class InventoryINIValueTests: XCTestCase {
    func testLiteralEvalNumbers() {
        let cases: [(String, Value)] = [
            ("22", 22), ("-3", -3), ("+4", 4), ("- 5", -5), ("0", 0), ("00", 0), ("1_000", 1000), ("0x1F", 31), ("0o17", 15),
            ("0b101", 5), ("0x_ff", 255), ("1.5", 1.5), (".5", 0.5), ("5.", 5.0), ("1e3", 1000.0), ("1E-2", 0.01), ("1_0.5", 10.5),
            ("1.e2", 100.0), ("0.0", 0.0),
            // Not literals in Python 3: they stay text.
            ("0755", "0755"), ("56L", "56L"), ("1__0", "1__0"), ("1_", "1_"), ("10-5", "10-5"), ("--1", "--1"), ("1j", "1j"),
            ("127.0.0.1", "127.0.0.1"), ("1.2.3", "1.2.3"), ("0x", "0x"), ("1e", "1e"), ("-True", "-True"),
            ("99999999999999999999", "99999999999999999999"),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(PythonLiteral.value(of: text), expected, text)
        }
    }

    func testLiteralEvalConstantsAndNames() {
        let cases: [(String, Value)] = [
            ("True", true), ("False", false), ("None", .null), ("...", "..."),
            ("true", "true"), ("yes", "yes"), ("FALSE", "FALSE"), ("abc", "abc"), ("True1", "True1"), ("print(1)", "print(1)"),
            ("", ""), ("  7", 7), ("7  # comment", 7), ("word # comment", "word # comment"), ("/etc/hosts", "/etc/hosts"),
            ("%(directory)s/fleet1-%%C", "%(directory)s/fleet1-%%C"),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(PythonLiteral.value(of: text), expected, text)
        }
    }

    func testLiteralEvalStrings() {
        let cases: [(String, Value)] = [
            ("'a b'", "a b"), ("\"x\"", "x"), ("'it''s'", "its"), ("'a' \"b\"", "ab"), ("'''tri'ple'''", "tri'ple"),
            (#"'tab\tnew\nline'"#, "tab\tnew\nline"), (#"'\x41\101\u00e9\U0001F600'"#, "AAé😀"), (#"'\q'"#, "\\q"),
            (#"r'\n'"#, "\\n"), (#"b'bytes'"#, "bytes"), (#"u'uni'"#, "uni"), (#"'03#pa33w0rd'"#, "03#pa33w0rd"),
            // Not literals: f-strings, mixed bytes and text, unterminated.
            ("f'x'", "f'x'"), ("b'a' 'b'", "b'a' 'b'"), ("'open", "'open"), (#"'\x4'"#, #"'\x4'"#),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(PythonLiteral.value(of: text), expected, text)
        }
    }

    func testLiteralEvalContainers() {
        let cases: [(String, Value)] = [
            ("[1, 'a', None]", [1, "a", nil]), ("[]", []), ("[[1, 2], [3]]", [[1, 2], [3]]), ("[1,]", [1]),
            ("(1, 2)", [1, 2]), ("()", []), ("(5)", 5), ("((1,),)", [[1]]), ("1, 2", [1, 2]), ("1,", [1]),
            ("{'a': 1, 'b': [True]}", ["a": 1, "b": [true]]), ("{}", [:]), ("{1: 'x', None: 2}", ["1": "x", "null": 2]),
            ("{1, 2, 2}", [1, 2]), ("{'a': {'b': (1, 2)}}", ["a": ["b": [1, 2]]]),
            // Not literals: names inside, unhashable keys, unbalanced.
            ("[a]", "[a]"), ("{[1]: 2}", "{[1]: 2}"), ("[1, 2", "[1, 2"), ("{'a' 1}", "{'a' 1}"), ("1, 2)", "1, 2)"),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(PythonLiteral.value(of: text), expected, text)
        }
    }

    func testShellWords() throws {
        func words(_ line: String) throws -> [String] { try ShellWords.split(line).map(\.text) }
        XCTAssertEqual(try words("h a=1  b=\"two words\" c='x y'"), ["h", "a=1", "b=two words", "c=x y"])
        XCTAssertEqual(try words(#"h a="q\"uote" b='back\slash' c=es\ cape d="\x""#), ["h", "a=q\"uote", "b=back\\slash", "c=es cape", "d=\\x"])
        XCTAssertEqual(try words("h a=1 # comment b=2"), ["h", "a=1"])
        XCTAssertEqual(try words("h a=x#y"), ["h", "a=x"])
        XCTAssertEqual(try words("h a=\"x#y\""), ["h", "a=x#y"])
        XCTAssertEqual(try words("h a=\"\""), ["h", "a="])
        XCTAssertEqual(try ShellWords.split("  h   k=v").map(\.column), [3, 7])
        XCTAssertThrowsError(try words("h a=\"open"))
        XCTAssertThrowsError(try words("h a=\\"))
    }

    /// A thousand hosts in ten groups with ranges and vars: loading and resolving stay in milliseconds.
    func testLargeInventoryIsFast() throws {
        var text = "[all:vars]\nntp=pool.ntp.org\n"
        for group in 0..<10 {
            text += "[g\(group)]\n"
            for host in 0..<100 { text += "h\(group)-\(host) ansible_host=10.0.\(group).\(host) idx=\(host)\n" }
            text += "[g\(group):vars]\nrack=\(group)\n"
        }
        text += "[fleet:children]\n" + (0..<10).map { "g\($0)" }.joined(separator: "\n") + "\n[web]\nweb[0001:1000]\n"
        let start = Date()
        let inventory = try Inventory(text: text, file: "big.ini")
        let loaded = Date()
        XCTAssertEqual(inventory.hostNames.count, 2000)
        for host in inventory.hostNames { _ = inventory.variables(for: host) }
        let selected = try inventory.hosts(matching: "fleet:!g3:&~h[0-9]-1")
        let done = Date()
        XCTAssertEqual(selected.hosts.count, 99)
        XCTAssertEqual(inventory.variables(for: "h7-42")["rack"], 7)
        XCTAssertLessThan(loaded.timeIntervalSince(start), 0.5, "loading 2000 hosts took \(loaded.timeIntervalSince(start))s")
        XCTAssertLessThan(done.timeIntervalSince(loaded), 2.0, "variables for 2000 hosts took \(done.timeIntervalSince(loaded))s")
    }
}
