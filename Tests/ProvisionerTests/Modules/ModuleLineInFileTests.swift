import XCTest
@testable import Modules
@testable import Provisioner

final class ModuleLineInFileTests: XCTestCase {
    typealias F = ModuleFixture

    func lineinfile(_ arguments: KeyValuePairs<String, Value>) throws -> LineInFileModule {
        var all: [(String, Value)] = [("path", "/f")]
        all += arguments.map { ($0.key, $0.value) }
        return try LineInFileModule(ModuleArguments.validate(ValueDict(all), against: LineInFileModule.arguments, module: "lineinfile"))
    }

    /// Each row was run through ansible-core 2.19.14's lineinfile on a real file:
    /// (content before, arguments, content after, Ansible's msg).
    static let table: [(String, KeyValuePairs<String, Value>, String, String)] = [
        ("alpha\nbeta\ngamma\n", ["line": "delta"], "alpha\nbeta\ngamma\ndelta\n", "line added"),
        ("alpha\nbeta\ngamma\n", ["line": "beta"], "alpha\nbeta\ngamma\n", ""),
        ("alpha\nbeta\ngamma\n", ["regexp": "^b", "line": "BETA"], "alpha\nBETA\ngamma\n", "line replaced"),
        ("x=1\ny=2\nx=3\n", ["regexp": "^x=", "line": "x=9"], "x=1\ny=2\nx=9\n", "line replaced"),
        ("x=1\ny=2\nx=3\n", ["regexp": "^x=", "line": "x=9", "firstmatch": true], "x=9\ny=2\nx=3\n", "line replaced"),
        ("alpha\nbeta\ngamma\n", ["regexp": "^zzz", "line": "new", "insertafter": "^beta"], "alpha\nbeta\nnew\ngamma\n", "line added"),
        ("alpha\nbeta\ngamma\n", ["regexp": "^zzz", "line": "new", "insertafter": "^nomatch"], "alpha\nbeta\ngamma\nnew\n", "line added"),
        ("alpha\nbeta\ngamma\n", ["regexp": "^zzz", "line": "new", "insertbefore": "^beta"], "alpha\nnew\nbeta\ngamma\n", "line added"),
        ("alpha\nbeta\ngamma\n", ["regexp": "^zzz", "line": "new", "insertbefore": "^nomatch"], "alpha\nbeta\ngamma\nnew\n", "line added"),
        ("alpha\nbeta\ngamma\n", ["line": "new", "insertbefore": "BOF"], "new\nalpha\nbeta\ngamma\n", "line added"),
        ("alpha\nbeta\ngamma\n", ["line": "new", "insertafter": "BOF"], "new\nalpha\nbeta\ngamma\n", "line added"),
        ("alpha\nbeta\ngamma\n", ["line": "new", "insertafter": "EOF"], "alpha\nbeta\ngamma\nnew\n", "line added"),
        ("alpha\nbeta", ["line": "new"], "alpha\nbeta\nnew\n", "line added"),
        ("alpha\nbeta", ["line": "beta"], "alpha\nbeta\n", "line replaced"),
        ("alpha\nbeta", ["regexp": "^beta", "line": "beta"], "alpha\nbeta\n", "line replaced"),
        ("alpha\nbeta", ["line": "new", "insertafter": "^beta"], "alpha\nbetanew\n", "line added"),
        ("alpha\nbeta", ["line": "new", "insertafter": "^alpha"], "alpha\nnew\nbeta", "line added"),
        ("alpha\nbeta\ngamma\n", ["regexp": "^(b)eta$", "line": "\\1ETA", "backrefs": true], "alpha\nbETA\ngamma\n", "line replaced"),
        ("alpha\nbeta\ngamma\n", ["regexp": "^(z)eta$", "line": "\\1ETA", "backrefs": true], "alpha\nbeta\ngamma\n", ""),
        ("alpha\nbeta\ngamma\n", ["regexp": "^(?P<w>g)amma", "line": "\\g<w>AMMA-\\g<0>", "backrefs": true], "alpha\nbeta\ngAMMA-gamma\n", "line replaced"),
        ("alpha\nbeta\ngamma\n", ["state": "absent", "regexp": "^[ab]"], "gamma\n", "2 line(s) removed"),
        ("alpha\nbeta\ngamma\n", ["state": "absent", "search_string": "mm"], "alpha\nbeta\n", "1 line(s) removed"),
        ("alpha\nbeta\ngamma\n", ["state": "absent", "line": "beta"], "alpha\ngamma\n", "1 line(s) removed"),
        ("alpha\nbeta\ngamma\n", ["state": "absent", "line": "nothere"], "alpha\nbeta\ngamma\n", ""),
        ("a\na\nb\na\n", ["state": "absent", "line": "a"], "b\n", "3 line(s) removed"),
        ("alpha\nbeta\ngamma\n", ["search_string": "et", "line": "BETA"], "alpha\nBETA\ngamma\n", "line replaced"),
        ("alpha\nbeta\ngamma\n", ["search_string": "zz", "line": "new", "insertafter": "^alpha"], "alpha\nnew\nbeta\ngamma\n", "line added"),
        ("p=1\n#p=2\np=3\n", ["regexp": "^p=", "line": "p=0", "insertafter": "^#p"], "p=1\n#p=2\np=0\n", "line replaced"),
        ("", ["line": "first"], "first\n", "line added"),
        ("alpha\nbeta\ngamma\n", ["line": "new", "insertafter": "a$"], "alpha\nbeta\ngamma\nnew\n", "line added"),
        ("alpha\nbeta\ngamma\n", ["line": "new", "insertafter": "a$", "firstmatch": true], "alpha\nnew\nbeta\ngamma\n", "line added"),
        ("alpha\nbeta\ngamma\n", ["line": "new", "insertbefore": "a$"], "alpha\nbeta\nnew\ngamma\n", "line added"),
        ("alpha\nbeta\ngamma\n", ["line": "new", "insertbefore": "a$", "firstmatch": true], "new\nalpha\nbeta\ngamma\n", "line added"),
        ("a\nnew\nb\n", ["line": "new", "insertafter": "^a"], "a\nnew\nb\n", ""),
        ("a\nb\nnew\n", ["line": "new", "insertbefore": "^b"], "a\nb\nnew\n", ""),
        ("new\na\n", ["line": "new", "insertbefore": "^a"], "new\na\n", ""),
        ("line\r\nother\r\n", ["line": "line"], "line\nother\r\n", "line replaced"),
        ("line\r\nother\r\n", ["regexp": "^oth", "line": "other"], "line\r\nother\n", "line replaced"),
        ("server {\n  listen 80;\n}\n", ["regexp": "^\\s*listen\\s", "line": "  listen 8080;"], "server {\n  listen 8080;\n}\n", "line replaced"),
        ("server {\n  listen 80;\n}\n", ["line": "  gzip on;", "insertafter": "^server {"], "server {\n  gzip on;\n  listen 80;\n}\n", "line added"),
        ("k: 1\n", ["regexp": "^k:", "line": "k: 2", "backrefs": true], "k: 2\n", "line replaced"),
        ("alpha\nbeta\ngamma\n", ["regexp": "", "line": "new"], "alpha\nbeta\nnew\n", "line replaced"),
        ("alpha\nbeta\ngamma\n", ["line": "x", "insertafter": "^gamma"], "alpha\nbeta\ngamma\nx\n", "line added"),
        ("alpha\nbeta\ngamma\n", ["line": "gamma", "insertafter": "^beta"], "alpha\nbeta\ngamma\n", ""),
        ("A\nB\nA\nB\n", ["line": "X", "insertafter": "^A"], "A\nB\nA\nX\nB\n", "line added"),
        ("A\nB\nA\nB\n", ["line": "X", "insertafter": "^A", "firstmatch": true], "A\nX\nB\nA\nB\n", "line added"),
        ("alpha\nbeta\ngamma\n", ["regexp": "^beta", "line": "alpha", "insertafter": "^gamma"], "alpha\nalpha\ngamma\n", "line replaced"),
        ("alpha\nbeta\ngamma\n", ["regexp": "^zzz", "line": "alpha"], "alpha\nbeta\ngamma\n", ""),
        ("alpha\nbeta\ngamma\n", ["regexp": "^(a)(x)?", "line": "[\\1|\\2]", "backrefs": true], "[a|]\nbeta\ngamma\n", "line replaced"),
    ]

    func testEditsMatchAnsible() throws {
        for (index, (before, arguments, after, message)) in Self.table.enumerated() {
            let plan = try F.plan(try lineinfile(arguments), files: ["/f": F.file(before)])
            XCTAssertEqual(plan.written ?? before, after, "row \(index): \(arguments)")
            XCTAssertEqual(plan.isChanged, before != after, "row \(index)")
            XCTAssertEqual(plan.result["msg"], .string(message), "row \(index)")
        }
    }

    // MARK: Ansible's documented edge cases, one by one

    func testRegexpMatchingSeveralLinesReplacesTheLastOne() throws {
        let plan = try F.plan(try lineinfile(["regexp": "^port=", "line": "port=22"]),
                              files: ["/f": F.file("port=1\nhost=a\nport=2\n")])
        XCTAssertEqual(plan.summaries, ["line replaced in /f"])
        XCTAssertEqual(plan.actions, [.writeFile(path: "/f", content: Array("port=1\nhost=a\nport=22\n".utf8),
                                                 attributes: FileAttributes(), backup: false)])
        XCTAssertEqual(plan.changes.first?.diff, TextDiff(label: "/f (content)", before: "port=1\nhost=a\nport=2\n",
                                                          after: "port=1\nhost=a\nport=22\n"))
    }

    func testInsertAfterThatMatchesNothingAppendsAtTheEnd() throws {
        let plan = try F.plan(try lineinfile(["line": "new", "insertafter": "^nothing"]), files: ["/f": F.file("a\nb\n")])
        XCTAssertEqual(plan.written, "a\nb\nnew\n")
        let before = try F.plan(try lineinfile(["line": "new", "insertbefore": "^nothing"]), files: ["/f": F.file("a\nb\n")])
        XCTAssertEqual(before.written, "a\nb\nnew\n")
    }

    func testBackrefsWithoutAMatchChangeNothing() throws {
        let plan = try F.plan(try lineinfile(["regexp": "^(missing)=(.*)$", "line": "\\1=x", "backrefs": true]),
                              files: ["/f": F.file("a=1\n")])
        XCTAssertFalse(plan.isChanged)
        XCTAssertEqual(plan.result["msg"], "")
    }

    func testBackrefsExpandGroups() throws {
        let plan = try F.plan(try lineinfile(["regexp": "^(?P<key>\\w+)=(\\d+)$", "line": "\\g<key>=[\\2]", "backrefs": true]),
                              files: ["/f": F.file("a=1\nb=x\n")])
        XCTAssertEqual(plan.written, "a=[1]\nb=x\n")
    }

    func testAbsentWithRegexpSearchStringOrLine() throws {
        let content = "keep\n# drop me\nkeep too\n# drop me\n"
        let byRegexp = try F.plan(try lineinfile(["state": "absent", "regexp": "^#"]), files: ["/f": F.file(content)])
        XCTAssertEqual(byRegexp.written, "keep\nkeep too\n")
        XCTAssertEqual(byRegexp.result["found"], 2)
        XCTAssertEqual(byRegexp.result["msg"], "2 line(s) removed")
        let bySearch = try F.plan(try lineinfile(["state": "absent", "search_string": "too"]), files: ["/f": F.file(content)])
        XCTAssertEqual(bySearch.written, "keep\n# drop me\n# drop me\n")
        let byLine = try F.plan(try lineinfile(["state": "absent", "line": "keep"]), files: ["/f": F.file(content)])
        XCTAssertEqual(byLine.written, "# drop me\nkeep too\n# drop me\n")
        let none = try F.plan(try lineinfile(["state": "absent", "line": "other"]), files: ["/f": F.file(content)])
        XCTAssertFalse(none.isChanged)
        XCTAssertEqual(none.result["found"], 0)
    }

    func testAbsentOnAMissingFileIsNoChange() throws {
        let plan = try F.plan(try lineinfile(["state": "absent", "line": "x"]))
        XCTAssertFalse(plan.isChanged)
        XCTAssertEqual(plan.result["msg"], "file not present")
    }

    func testFileWithoutTrailingNewline() throws {
        // Appending first ends the last line.
        XCTAssertEqual(try F.plan(try lineinfile(["line": "c"]), files: ["/f": F.file("a\nb")]).written, "a\nb\nc\n")
        // The line already there, unterminated, is rewritten with its newline.
        let present = try F.plan(try lineinfile(["line": "b"]), files: ["/f": F.file("a\nb")])
        XCTAssertEqual(present.written, "a\nb\n")
        XCTAssertEqual(present.result["msg"], "line replaced")
        // Ansible appends right after an unterminated marker line: its behaviour, kept.
        XCTAssertEqual(try F.plan(try lineinfile(["line": "c", "insertafter": "^b"]), files: ["/f": F.file("a\nb")]).written, "a\nbc\n")
    }

    func testUnchangedLinesKeepTheirBytes() throws {
        let latin1: [UInt8] = [0x63, 0x61, 0x66, 0xE9, 0x0A]  // "caf\xe9\n", not UTF-8
        var state = F.file("")
        state.content = latin1
        let plan = try F.plan(try lineinfile(["line": "x"]), files: ["/f": state])
        guard case .writeFile(_, let content, _, _)? = plan.actions.first else { return XCTFail("no write") }
        XCTAssertEqual(content, latin1 + Array("x\n".utf8))
    }

    // MARK: Creating, attributes, backup

    func testMissingFileFailsUnlessCreate() throws {
        XCTAssertEqual(try F.plan(try lineinfile(["line": "x"])).failure, "Destination /f does not exist !")
        let created = try F.plan(try lineinfile(["path": "/etc/app/f", "line": "x", "create": true, "mode": "0600"]))
        XCTAssertEqual(created.summaries, ["create directory /etc/app", "create /etc/app/f with line added"])
        XCTAssertEqual(created.actions, [
            .makeDirectory(path: "/etc/app", attributes: FileAttributes()),
            .writeFile(path: "/etc/app/f", content: Array("x\n".utf8), attributes: FileAttributes(mode: 0o600), backup: false),
        ])
        let inExisting = try F.plan(try lineinfile(["path": "/etc/f", "line": "x", "create": true]), files: ["/etc": F.directory()])
        XCTAssertEqual(inExisting.summaries, ["create /etc/f with line added"])
    }

    func testConvergedFileWithAttributesIsNoChange() throws {
        let plan = try F.plan(try lineinfile(["line": "a", "mode": "0644", "owner": "root"]), files: ["/f": F.file("a\n")])
        XCTAssertFalse(plan.isChanged)
    }

    func testAttributesChangeAlone() throws {
        let plan = try F.plan(try lineinfile(["line": "a", "mode": "0600", "group": "adm"]), files: ["/f": F.file("a\n")])
        XCTAssertEqual(plan.summaries, ["mode of /f: 0644 -> 0600", "group root -> adm on /f"])
        XCTAssertEqual(plan.actions, [.setAttributes(path: "/f", attributes: FileAttributes(mode: 0o600)),
                                      .setAttributes(path: "/f", attributes: FileAttributes(group: "adm"))])
        XCTAssertEqual(plan.result["msg"], "ownership, perms or SE linux context changed")
    }

    func testBackupIsPassedToTheWrite() throws {
        let plan = try F.plan(try lineinfile(["line": "b", "backup": true]), files: ["/f": F.file("a\n")])
        XCTAssertEqual(plan.actions, [.writeFile(path: "/f", content: Array("a\nb\n".utf8), attributes: FileAttributes(), backup: true)])
    }

    func testValidateRunsBeforeTheWrite() throws {
        let plan = try F.plan(try lineinfile(["line": "b", "validate": "check %s"]), files: ["/f": F.file("a\n", mode: 0o600)])
        XCTAssertEqual(plan.actions.count, 3)
        XCTAssertEqual(plan.actions.first, .writeFile(path: "/.f.provision-validate", content: Array("a\nb\n".utf8),
                                                      attributes: FileAttributes(mode: 0o600), backup: false))
        XCTAssertEqual(plan.actions.last, .writeFile(path: "/f", content: Array("a\nb\n".utf8), attributes: FileAttributes(), backup: false))
    }

    // MARK: Errors

    func testArgumentErrors() {
        XCTAssertThrowsError(try lineinfile(["regexp": "a", "search_string": "b", "line": "x"]))
        XCTAssertThrowsError(try lineinfile(["insertafter": "a", "insertbefore": "b", "line": "x"]))
        XCTAssertThrowsError(try lineinfile(["backrefs": true, "line": "x"])) { error in
            XCTAssertEqual((error as? ModuleError)?.message, "regexp is required with backrefs=true")
        }
        XCTAssertThrowsError(try lineinfile(["regexp": "a"])) { error in
            XCTAssertEqual((error as? ModuleError)?.message, "line is required with state=present")
        }
        XCTAssertThrowsError(try lineinfile(["state": "absent"]))
        XCTAssertThrowsError(try lineinfile(["regexp": "(", "line": "x"])) { error in
            XCTAssertEqual((error as? ModuleError)?.argument, "regexp")
        }
        XCTAssertThrowsError(try lineinfile(["regexp": "(a)", "line": "\\q", "backrefs": true]).insertOrReplace([Array("a\n".utf8)]))
    }

    func testDirectoriesAndLinksAreRefused() throws {
        XCTAssertEqual(try F.plan(try lineinfile(["line": "x"]), files: ["/f": F.directory()]).failure, "Path /f is a directory !")
        XCTAssertNotNil(try F.plan(try lineinfile(["line": "x"]), files: ["/f": F.link(to: "/g")]).failure)
    }

    func testPythonRegexSpellings() throws {
        XCTAssertEqual(PythonRegexSyntax.translate("(?P<a>x)(?P=a)\\Z"), "(?<a>x)\\k<a>\\z")
        XCTAssertEqual(PythonRegexSyntax.translate("^server {"), "^server \\{")
        XCTAssertEqual(PythonRegexSyntax.translate("a{2,}b{,3}[{[]"), "a{2,}b{0,3}[{\\[]")
        XCTAssertNotNil(try Modules.PythonRegex("^\\s*location / {$", argument: "regexp").search("  location / {\n"))
    }
}
