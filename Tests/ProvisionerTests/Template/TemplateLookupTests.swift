import XCTest
@testable import Provisioner

/// The list lookups `with_X` loops use, macros and the comment filter, against what ansible-core
/// 2.19's plugins return (the differential plays compare whole runs).
final class TemplateLookupTests: XCTestCase {
    let templar = TemplateTesting.templar("""
    users:
      - {name: alice, keys: [k1, k2], mysql: {hosts: [h1]}}
      - {name: bob, keys: [k3], mysql: {hosts: []}}
    """)

    func lookup(_ name: String, _ terms: [Value], _ options: [String: Value] = [:]) throws -> [Value] {
        try templar.loopLookup(name, terms: terms, options: options)
    }

    func testNestedTogetherDictAndIndexedItems() throws {
        XCTAssertEqual(try lookup("nested", [["a", "b"], [1, 2]]), [["a", 1], ["a", 2], ["b", 1], ["b", 2]])
        XCTAssertEqual(try lookup("nested", [["a"], [[1, 2]], ["z"]]), [["a", 1, 2, "z"]], "each step flattens one level")
        XCTAssertEqual(try lookup("together", [["a", "b", "c"], [1, 2]]), [["a", 1], ["b", 2], ["c", .null]])
        XCTAssertEqual(try lookup("dict", [.dict(["x": 1, "y": 2])]), [.dict(["key": "x", "value": 1]), .dict(["key": "y", "value": 2])])
        XCTAssertThrowsError(try lookup("dict", [1])) { XCTAssertTrue("\($0)".contains("expects a dictionary")) }
        XCTAssertThrowsError(try lookup("nested", [])) { XCTAssertTrue("\($0)".contains("requires at least one element")) }
        XCTAssertEqual(try lookup("indexed_items", ["p", "q"]), [[0, "p"], [1, "q"]])
    }

    func testSubelementsPopsTheKeyAndSkipsMissingOnes() throws {
        let users = try templar.evaluate("users")
        let pairs = try lookup("subelements", [users, "keys"])
        XCTAssertEqual(pairs.count, 3)
        XCTAssertEqual(pairs[0], [.dict(["name": "alice", "mysql": .dict(["hosts": ["h1"]])]), "k1"], "the subkey leaves the element, as in the plugin")
        XCTAssertEqual(try lookup("subelements", [users, "mysql.hosts"]).map { $0.list?[1] }, ["h1"])
        let withCarol = Value.list((users.list ?? []) + [.dict(["name": "carol"])])
        XCTAssertThrowsError(try lookup("subelements", [withCarol, "keys"])) { XCTAssertTrue("\($0)".contains("could not find 'keys' key")) }
        XCTAssertEqual(try lookup("subelements", [withCarol, "keys", .dict(["skip_missing": true])]).count, 3)
    }

    func testSequenceForms() throws {
        XCTAssertEqual(try lookup("sequence", ["start=1 end=9 stride=4 format=n%02d"]), ["n01", "n05", "n09"])
        XCTAssertEqual(try lookup("sequence", ["4-8/2:x%d"]), ["x4", "x6", "x8"])
        XCTAssertEqual(try lookup("sequence", ["count=3"]), ["1", "2", "3"])
        XCTAssertEqual(try lookup("sequence", ["start=3 end=1 stride=-1"]), ["3", "2", "1"])
        XCTAssertEqual(try lookup("sequence", ["count=0"]), [])
        for (term, message) in [("start=5 end=1", "to count backwards make stride negative"), ("start=1", "must specify count or end"),
                                ("end=3 count=2", "can't specify both"), ("end=3 format=%d%d", "bad formatting string"),
                                ("start=0x0a end=3", "invalid value"), ("end=3 bogus=1", "unrecognized arguments")] {
            XCTAssertThrowsError(try lookup("sequence", [.string(term)]), term) { XCTAssertTrue("\($0)".contains(message), "\(term): \($0)") }
        }
    }

    func testFirstFoundAndFileglobSearchTheSearchPath() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("files/a.txt", "a")
        try scratch.write("files/b.txt", "b")
        try scratch.write("templates/t.j2", "t")
        let templar = Templar(variables: ValueDict(), searchPaths: [scratch.path])
        let found = try templar.loopLookup("first_found", terms: ["missing", "b.txt"])
        XCTAssertEqual(found, [.string(scratch.path("files/b.txt"))])
        XCTAssertEqual(try templar.loopLookup("first_found", terms: ["t.j2"], options: ["_subdir": "templates"]), [.string(scratch.path("templates/t.j2"))])
        XCTAssertEqual(try templar.loopLookup("first_found", terms: [.dict(["files": "nope,a.txt", "paths": .list([.string(scratch.path("files"))])])]),
                       [.string(scratch.path("files/a.txt"))])
        XCTAssertEqual(try templar.loopLookup("first_found", terms: [.dict(["files": ["nope"], "skip": true])]), [])
        XCTAssertThrowsError(try templar.loopLookup("first_found", terms: ["nope"])) { XCTAssertTrue("\($0)".contains("No file was found")) }
        XCTAssertEqual(Set(try templar.loopLookup("fileglob", terms: ["*.txt"]).compactMap(\.string)),
                       [scratch.path("files/a.txt"), scratch.path("files/b.txt")])
        XCTAssertEqual(try templar.loopLookup("fileglob", terms: ["*.none"]), [])
    }

    func testMacrosAndCallBlocks() throws {
        let templar = TemplateTesting.templar("who: world")
        func render(_ text: String) throws -> String { try templar.renderTemplate(text, name: "t.j2") }
        XCTAssertEqual(try render("{% macro hi(name, greeting='hello') %}{{ greeting }} {{ name }}{% endmacro %}{{ hi(who) }}|{{ hi('x', greeting='bye') }}"),
                       "hello world|bye x")
        XCTAssertEqual(try render("{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}{{ who }}{% endcall %}"),
                       "<b>world</b>")
        XCTAssertEqual(try render("{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}"), "321", "macros may recurse")
        XCTAssertThrowsError(try render("{% macro f(a) %}{% endmacro %}{{ f(1, 2) }}")) { XCTAssertTrue("\($0)".contains("takes not more than 1 argument")) }
        XCTAssertThrowsError(try render("{% macro f(a) %}{% endmacro %}{{ f(b=2) }}")) { XCTAssertTrue("\($0)".contains("no keyword argument 'b'")) }
        XCTAssertThrowsError(try render("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}")) { XCTAssertTrue("\($0)".contains("more than 100 deep")) }
    }

    func testCommentFilterStyles() throws {
        let templar = TemplateTesting.templar("")
        XCTAssertEqual(try templar.evaluate("'a\\nb' | comment").string, "#\n# a\n# b\n#")
        XCTAssertEqual(try templar.evaluate("'a' | comment('cblock')").string, "/*\n *\n * a\n *\n */")
        XCTAssertEqual(try templar.evaluate("'a' | comment('xml')").string, "<!--\n -\n - a\n -\n-->")
        XCTAssertEqual(try templar.evaluate("'a' | comment('c', prefix_count=0)").string, "// a\n//")
        XCTAssertThrowsError(try templar.evaluate("'a' | comment('bogus')")) { XCTAssertTrue("\($0)".contains("Invalid style 'bogus'")) }
    }
}
