import XCTest
@testable import Provisioner

final class InventoryPatternTests: XCTestCase {
    static let text = """
        loner
        [web]
        web1
        web2
        web10
        [db]
        db1
        web2
        [staging]
        web1
        db1
        [prod:children]
        web
        db
        """

    private var inventory: Inventory!

    override func setUpWithError() throws { inventory = try Inventory(text: Self.text, file: "hosts.ini") }

    private func hosts(_ pattern: String, limit: String? = nil) throws -> [String] {
        try inventory.hosts(matching: pattern, limit: limit).hosts
    }

    /// Ansible walks `all` breadth first: `ungrouped`, then parentless groups (staging, prod)
    /// in creation order, then their children; not the order hosts were declared in.
    func testAllAndStar() throws {
        XCTAssertEqual(try hosts("all"), ["loner", "web1", "db1", "web2", "web10"])
        XCTAssertEqual(Set(try hosts("*")), Set(inventory.hostNames))
    }

    func testHostAndGroupNames() throws {
        XCTAssertEqual(try hosts("web2"), ["web2"])
        XCTAssertEqual(try hosts("web"), ["web1", "web2", "web10"])
        XCTAssertEqual(try hosts("prod"), ["web1", "web2", "web10", "db1"])
        XCTAssertEqual(try hosts("ungrouped"), ["loner"])
    }

    func testUnion() throws {
        XCTAssertEqual(try hosts("db:staging"), ["db1", "web2", "web1"])
        XCTAssertEqual(try hosts("db,staging"), ["db1", "web2", "web1"])
        XCTAssertEqual(try hosts("db, loner"), ["db1", "web2", "loner"])
        XCTAssertEqual(try inventory.hosts(matching: ["db", "loner"]).hosts, ["db1", "web2", "loner"])
    }

    func testExclusion() throws {
        XCTAssertEqual(try hosts("web:!staging"), ["web2", "web10"])
        XCTAssertEqual(try hosts("all:!prod"), ["loner"])
        XCTAssertEqual(try hosts("!web"), ["loner", "db1"])   // only exclusions start from all
    }

    func testIntersection() throws {
        XCTAssertEqual(try hosts("web:&staging"), ["web1"])
        XCTAssertEqual(try hosts("prod:&db:!web"), ["db1"])
    }

    /// Ansible applies plain parts, then `&`, then `!`, wherever they are written.
    func testOperatorOrderFollowsAnsible() throws {
        XCTAssertEqual(try hosts("!staging:web"), ["web2", "web10"])
        XCTAssertEqual(try hosts("&staging:web:db"), ["web1", "db1"])
        XCTAssertEqual(try hosts("web:!web1:web1"), ["web2", "web10"])
    }

    func testWildcards() throws {
        XCTAssertEqual(try hosts("web*"), ["web1", "web2", "web10"])
        XCTAssertEqual(try hosts("web?"), ["web1", "web2"])
        XCTAssertEqual(try hosts("web[2-9]*"), ["web2"])
        XCTAssertEqual(try hosts("web[!1]*"), ["web2"])
        XCTAssertEqual(try hosts("*1"), ["web1", "db1"])
        XCTAssertEqual(try hosts("st*"), ["web1", "db1"])   // a glob matches group names too
    }

    func testRegex() throws {
        XCTAssertEqual(try hosts(#"~web\d+"#), ["web1", "web2", "web10"])
        XCTAssertEqual(try hosts(#"~web\d$"#), ["web1", "web2"])
        XCTAssertEqual(try hosts("~(db|lon)"), ["db1", "web2", "loner"])   // group db, then hosts
        XCTAssertEqual(try hosts("~eb"), [])    // anchored at the start, like re.match
        XCTAssertThrowsError(try hosts("~web(")) { error in
            XCTAssertTrue("\(error)".contains("invalid regular expression"), "\(error)")
        }
    }

    func testSubscripts() throws {
        XCTAssertEqual(try hosts("web[0]"), ["web1"])
        XCTAssertEqual(try hosts("web[-1]"), ["web10"])
        XCTAssertEqual(try hosts("web[1:]"), ["web2", "web10"])
        XCTAssertEqual(try hosts("web[0:1]"), ["web1", "web2"])
        XCTAssertThrowsError(try hosts("web[7]"))
        XCTAssertThrowsError(try hosts("web[12]"))   // a subscript in Ansible, not a glob
    }

    func testUnknownNamesAreWarningsNotErrors() throws {
        let selection = try inventory.hosts(matching: "webb:db")
        XCTAssertEqual(selection.hosts, ["db1", "web2"])
        XCTAssertEqual(selection.unmatchedPatterns, ["webb"])
        XCTAssertEqual(selection.warnings, ["Could not match supplied host pattern, ignoring: webb (did you mean 'web' or 'web1' or 'web2'?)"])
        let none = try inventory.hosts(matching: "nothing")
        XCTAssertEqual(none.hosts, [])
        XCTAssertEqual(none.unmatchedPatterns, ["nothing"])
    }

    func testLimit() throws {
        XCTAssertEqual(try hosts("all", limit: "web"), ["web1", "web2", "web10"])
        XCTAssertEqual(try hosts("web", limit: "!web2"), ["web1", "web10"])
        XCTAssertEqual(try hosts("prod", limit: "staging,loner"), ["web1", "db1"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("retry", "web10\ndb1\n")
        XCTAssertEqual(try hosts("all", limit: "@" + file), ["db1", "web10"])
        XCTAssertThrowsError(try hosts("all", limit: "@" + scratch.path("missing")))
    }

    func testImplicitLocalhost() throws {
        XCTAssertEqual(try hosts("localhost"), ["localhost"])
        XCTAssertEqual(try hosts("127.0.0.1"), ["127.0.0.1"])
        XCTAssertTrue(inventory.isImplicitLocalhost("localhost"))
        XCTAssertEqual(try hosts("all"), ["loner", "web1", "db1", "web2", "web10"])   // not part of all
        XCTAssertEqual(try hosts("localhost", limit: "localhost"), ["localhost"])
        XCTAssertEqual(try hosts("localhost", limit: ""), ["localhost"])
        XCTAssertEqual(try hosts("localhost", limit: "web"), [])
        let empty = Inventory()
        XCTAssertEqual(try empty.hosts(matching: "localhost").hosts, ["localhost"])
        XCTAssertEqual(try empty.hosts(matching: "all").hosts, [])
        XCTAssertEqual(try empty.hosts(matching: "all").unmatchedPatterns, [])
        XCTAssertEqual(empty.variables(for: "localhost")["ansible_connection"], "local")
    }

    func testSplitting() {
        XCTAssertEqual(Inventory.splitHostPattern("a:b:!c:&d"), ["a", "b", "!c", "&d"])
        XCTAssertEqual(Inventory.splitHostPattern("a, b ,c"), ["a", "b", "c"])
        XCTAssertEqual(Inventory.splitHostPattern("web[1:3]:db"), ["web[1:3]", "db"])
        XCTAssertEqual(Inventory.splitHostPattern("fe80::1"), ["fe80::1"])
        XCTAssertEqual(Inventory.splitHostPattern("host:22"), ["host:22"])
    }
}
