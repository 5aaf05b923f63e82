import XCTest
@testable import Provisioner

/// Malformed inventories: each gives one error naming FILE:LINE:COL and what was expected.
final class InventoryErrorTests: XCTestCase {
    private func error(_ text: String, file: String = "hosts.ini", line: UInt = #line) -> String {
        parseError({ _ = try Inventory(text: text, file: file) }, line: line)
    }

    // MARK: INI

    func testUnknownSectionType() {
        XCTAssertEqual(error("[web]\nw1\n[web:var]\nx=1\n"),
                       "hosts.ini:3:1: section [web:var] has unknown type 'var': expected [web], [web:vars] or [web:children] (did you mean 'vars'?)")
    }

    func testInvalidSectionHeader() {
        XCTAssertEqual(error("[web servers]\n"),
                       "hosts.ini:1:1: invalid section header [web servers]: expected [group], [group:vars] or [group:children], with no spaces in the name")
    }

    func testBadHostRanges() {
        XCTAssertEqual(error("[web]\n  web[01:3].example.com\n"),
                       "hosts.ini:2:3: host range [01:3] must specify equal-length begin and end formats (01 has 2 digits, 3 has 1)")
        XCTAssertEqual(error("web[1:]\n"), "hosts.ini:1:1: host range [1:] must specify an end value")
        XCTAssertEqual(error("web[a:3]\n"), "hosts.ini:1:1: host range [a:3] must have numeric or single-letter bounds")
        XCTAssertEqual(error("web[1:3:0]\n"), "hosts.ini:1:1: host range [1:3:0] has step '0'; the step must be a positive number")
        XCTAssertEqual(error("web[1:3\n"), "hosts.ini:1:1: host range in 'web[1:3' has no closing ']'")
        XCTAssertEqual(error("web[z:a]\n"), "hosts.ini:1:1: host range [z:a] must have begin <= end")
    }

    func testGroupThatIsItsOwnAncestor() {
        let text = """
            [a:children]
            b
            [b:children]
            c
            [c:children]
            a
            """
        XCTAssertEqual(error(text),
                       "hosts.ini:6:1: making 'a' a child of 'c' creates a loop (a -> b -> c -> a); a group cannot be its own ancestor")
        XCTAssertEqual(error("[a:children]\na\n"), "hosts.ini:2:1: group 'a' cannot be a child of itself")
    }

    func testVarsForUndeclaredGroup() {
        XCTAssertEqual(error("[web]\nw1\n[webs:vars]\nx=1\n"),
                       "hosts.ini:3:1: section [webs:vars] sets variables of group 'webs', which no [webs] or [webs:children] section declares (did you mean 'web'?)")
    }

    func testChildrenNamingUndefinedGroup() {
        XCTAssertEqual(error("[web]\nw1\n[prod:children]\nweb\ndbs\n[db]\nd1\n"),
                       "hosts.ini:5:1: section [prod:children] includes undefined group 'dbs': declare it with a [dbs] section (did you mean 'db'?)")
    }

    func testHostVariableWithoutEquals() {
        XCTAssertEqual(error("[web]\nw1 ansible_host=10.0.0.1 ansible_user\n"),
                       "hosts.ini:2:26: expected key=value host variable assignment, got 'ansible_user'")
        XCTAssertEqual(error("w1 a=1 ; note\n"),
                       "hosts.ini:1:8: expected key=value host variable assignment, got ';' (';' starts a comment only at the start of a line; use '#')")
    }

    func testUnclosedQuote() {
        XCTAssertEqual(error("w1 motd=\"hello there\n"), "hosts.ini:1:9: unclosed quote in host line")
    }

    func testVarsLineWithoutEquals() {
        XCTAssertEqual(error("[web]\nw1\n[web:vars]\nhttp_port 80\n"),
                       "hosts.ini:4:1: expected key=value in [web:vars], got 'http_port 80'")
    }

    func testTrailingColonAndYAMLMarker() {
        XCTAssertEqual(error("w1:\n"), "hosts.ini:1:1: invalid host 'w1:': a trailing ':' must be followed by a port number")
        XCTAssertEqual(error("---\nall:\n", file: "inventory.ini"),
                       "inventory.ini:1:1: invalid host '---': this is a YAML document marker; is this file YAML with the wrong extension?")
    }

    func testBadChildGroupLineAndPriority() {
        XCTAssertEqual(error("[p:children]\nweb db\n"), "hosts.ini:2:1: expected a group name in [p:children], got 'web db'")
        XCTAssertEqual(error("[web]\nw1\n[web:vars]\nansible_group_priority=high\n"),
                       "hosts.ini:4:1: ansible_group_priority must be an integer, found str \"high\"")
    }

    // MARK: YAML

    func testHostsAsAList() {
        let text = """
            all:
              children:
                web:
                  hosts:
                    - w1
                    - w2
            """
        XCTAssertEqual(error(text, file: "hosts.yml"),
                       "hosts.yml:5:9: 'hosts' of group 'web' must be a mapping (host name -> its variables), found a list")
    }

    func testYAMLShapeErrors() {
        XCTAssertEqual(error("- all\n", file: "hosts.yml"),
                       "hosts.yml:1:1: a YAML inventory must be a mapping of group names (usually 'all') to groups, found a list")
        XCTAssertEqual(error("# nothing\n", file: "hosts.yml"),
                       "hosts.yml:1:1: the inventory is empty: expected a mapping such as 'all: {hosts: ..., children: ..., vars: ...}'")
        XCTAssertEqual(error("all:\n  children:\n    web: webservers\n", file: "hosts.yml"),
                       "hosts.yml:3:10: group 'web' must be a mapping with 'hosts', 'children' and/or 'vars', found the string 'webservers'")
        XCTAssertEqual(error("all:\n  hosts:\n    w1: 10.0.0.1\n", file: "hosts.yml"),
                       "hosts.yml:3:9: host 'w1' must map to its variables (a mapping) or to nothing, found the string '10.0.0.1'")
        XCTAssertEqual(error("all:\n  vars: [a]\n", file: "hosts.yml"),
                       "hosts.yml:2:9: 'vars' of group 'all' must be a mapping (variable name -> value), found a list")
        XCTAssertEqual(error("plugin: aws_ec2\nregions: [eu-west-1]\n", file: "aws_ec2.yml"),
                       "aws_ec2.yml:1:9: this is an inventory plugin configuration ('plugin:'), which provision does not run; write a static inventory ('all: {hosts: ..., children: ...}')")
    }

    func testYAMLCycle() {
        let text = """
            all:
              children:
                a:
                  children:
                    b:
                      children:
                        a:
            """
        XCTAssertEqual(error(text, file: "hosts.yml"),
                       "hosts.yml:5:9: making 'b' a child of 'a' creates a loop (b -> a -> b); a group cannot be its own ancestor")
    }

    func testYAMLSyntaxErrorKeepsItsPosition() {
        let message = error("all:\n  hosts:\n    w1: {a: 1\n", file: "hosts.yaml")
        XCTAssertTrue(message.hasPrefix("hosts.yaml:"), message)
        XCTAssertFalse(message.hasPrefix("hosts.yaml:1:1:"), message)
    }

    /// An extensionless file that looks like YAML reports the YAML error, not the INI one.
    func testExtensionlessYAMLReportsTheYAMLError() {
        let message = error("all:\n  hosts:\n    - w1\n", file: "inventory")
        XCTAssertEqual(message, "inventory:3:5: 'hosts' of group 'all' must be a mapping (host name -> its variables), found a list")
    }

    // MARK: Files

    func testMissingSource() {
        XCTAssertEqual(parseError({ _ = try Inventory(sources: ["/nonexistent/hosts.yml"]) }),
                       "/nonexistent/hosts.yml:1:1: no such inventory file or directory")
    }

    func testInvalidUTF8() {
        let scratch = try? Scratch()
        defer { scratch?.remove() }
        guard let scratch else { return XCTFail("no scratch directory") }
        let url = scratch.root.appendingPathComponent("hosts.ini")
        XCTAssertNoThrow(try Data([0x23, 0xFF, 0x0A, 0x77, 0x31, 0x0A, 0x77, 0xFE, 0x0A]).write(to: url))
        XCTAssertEqual(parseError({ _ = try Inventory(sources: [url.path]) }), "\(url.path):3:1: line is not valid UTF-8")
    }

    func testBadVarsFiles() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let hosts = try scratch.write("hosts.ini", "[web]\nw1\n")
        try scratch.write("group_vars/web.yml", "- a\n- b\n")
        XCTAssertEqual(parseError({ _ = try Inventory(sources: [hosts]) }),
                       "\(scratch.path("group_vars/web.yml")):1:1: a vars file must be a mapping of variable names to values, found a list")
        try scratch.write("group_vars/web.yml", "$ANSIBLE_VAULT;1.1;AES256\n6162\n")
        XCTAssertEqual(parseError({ _ = try Inventory(sources: [hosts]) }),
                       "\(scratch.path("group_vars/web.yml")):1:1: this file is encrypted with ansible-vault, which provision does not read; decrypt it or move the secrets elsewhere")
        try scratch.write("group_vars/web.yml", "a: 1\n---\nb: 2\n")
        XCTAssertEqual(parseError({ _ = try Inventory(sources: [hosts]) }),
                       "\(scratch.path("group_vars/web.yml")):3:1: a vars file holds one YAML document; this one has 2")
        try scratch.write("group_vars/web.yml", "a: 1\n")
        try scratch.write("host_vars/w1/main.yml", "a: [1\n")
        XCTAssertTrue(parseError({ _ = try Inventory(sources: [hosts]) }).hasPrefix(scratch.path("host_vars/w1/main.yml") + ":"))
    }
}
