import XCTest
@testable import Provisioner

final class InventoryINITests: XCTestCase {
    // The peerbench inventories, copied verbatim.
    static let fleetINI = """
        [fleet]
        fleet1 peer_root=/tmp/peerbench/fleet/fleet1 ansible_control_path=%(directory)s/fleet1-%%C
        fleet2 peer_root=/tmp/peerbench/fleet/fleet2 ansible_control_path=%(directory)s/fleet2-%%C
        fleet3 peer_root=/tmp/peerbench/fleet/fleet3 ansible_control_path=%(directory)s/fleet3-%%C
        fleet4 peer_root=/tmp/peerbench/fleet/fleet4 ansible_control_path=%(directory)s/fleet4-%%C
        fleet5 peer_root=/tmp/peerbench/fleet/fleet5 ansible_control_path=%(directory)s/fleet5-%%C

        [fleet:vars]
        ansible_host=127.0.0.1
        ansible_port=2201
        ansible_user=root
        ansible_ssh_private_key_file=/tmp/peerbench/ssh/id_ed25519

        """
    static let localINI = "localhost ansible_connection=local peer_root=/tmp/peerbench/root\n"
    static let sshINI = "pb-ssh ansible_host=127.0.0.1 ansible_port=2201 ansible_user=root ansible_ssh_private_key_file=/tmp/peerbench/ssh/id_ed25519 peer_root=/tmp/peerbench/root\n"

    func testFleetInventory() throws {
        let inventory = try Inventory(text: Self.fleetINI, file: "fleet.ini")
        XCTAssertEqual(inventory.hostNames, ["fleet1", "fleet2", "fleet3", "fleet4", "fleet5"])
        XCTAssertEqual(inventory.group(named: "fleet")?.hosts, inventory.hostNames)
        XCTAssertEqual(inventory.group(named: "all")?.children, ["ungrouped", "fleet"])
        XCTAssertEqual(inventory.group(named: "ungrouped")?.hosts, [])
        let vars = inventory.variables(for: "fleet3")
        XCTAssertEqual(vars["peer_root"], "/tmp/peerbench/fleet/fleet3")
        XCTAssertEqual(vars["ansible_control_path"], "%(directory)s/fleet3-%%C")
        XCTAssertEqual(vars["ansible_host"], "127.0.0.1")
        XCTAssertEqual(vars["ansible_port"], 2201)   // literal_eval'd in :vars too
        XCTAssertEqual(vars["ansible_user"], "root")
        XCTAssertEqual(vars["ansible_ssh_private_key_file"], "/tmp/peerbench/ssh/id_ed25519")
        XCTAssertEqual(vars["group_names"], ["fleet"])
        XCTAssertEqual(vars["inventory_hostname"], "fleet3")
        XCTAssertTrue(inventory.warnings.isEmpty, "\(inventory.warnings)")
    }

    func testLocalInventory() throws {
        let inventory = try Inventory(text: Self.localINI, file: "local.ini")
        XCTAssertEqual(inventory.hostNames, ["localhost"])
        XCTAssertEqual(inventory.group(named: "ungrouped")?.hosts, ["localhost"])
        let vars = inventory.variables(for: "localhost")
        XCTAssertEqual(vars["ansible_connection"], "local")
        XCTAssertEqual(vars["peer_root"], "/tmp/peerbench/root")
        // Ansible's group_names leaves out only `all`.
        XCTAssertEqual(vars["group_names"], ["ungrouped"])
        XCTAssertFalse(inventory.isImplicitLocalhost("localhost"))
    }

    func testSSHInventory() throws {
        let inventory = try Inventory(text: Self.sshINI, file: "ssh.ini")
        let vars = inventory.variables(for: "pb-ssh")
        XCTAssertEqual(vars["ansible_host"], "127.0.0.1")
        XCTAssertEqual(vars["ansible_port"], 2201)
        XCTAssertEqual(vars["ansible_user"], "root")
        XCTAssertEqual(vars["peer_root"], "/tmp/peerbench/root")
        XCTAssertEqual(vars["inventory_hostname_short"], "pb-ssh")
        XCTAssertNil(vars["ansible_connection"])
    }

    func testHostLineValuesAreLiteralEvaluated() throws {
        let text = """
            h1 a=5 b='5' c="'5'" d=True e=yes f="two words" g=[1,2] h={'k':1} hq="{'k': 1}" i=1.5 j=0755 k=None l=a#comment
            h2 msg="it's \\"quoted\\"" empty="" list=1,2 neg=-3
            """
        let inventory = try Inventory(text: text, file: "hosts.ini")
        let h1 = try XCTUnwrap(inventory.host(named: "h1")).variables
        XCTAssertEqual(h1["a"], 5)
        XCTAssertEqual(h1["b"], 5)             // shlex removes the quotes first, as in Ansible
        XCTAssertEqual(h1["c"], "5")
        XCTAssertEqual(h1["d"], true)
        XCTAssertEqual(h1["e"], "yes")
        XCTAssertEqual(h1["f"], "two words")
        XCTAssertEqual(h1["g"], [1, 2])
        XCTAssertEqual(h1["h"], "{k:1}")        // shlex ate the quotes, so k is a name, not a literal
        XCTAssertEqual(h1["hq"], ["k": 1])
        XCTAssertEqual(h1["i"], 1.5)
        XCTAssertEqual(h1["j"], "0755")
        XCTAssertEqual(h1["k"], .null)
        XCTAssertEqual(h1["l"], "a")           // '#' starts a comment mid-word in shlex
        let h2 = try XCTUnwrap(inventory.host(named: "h2")).variables
        XCTAssertEqual(h2["msg"], "it's \"quoted\"")
        XCTAssertEqual(h2["empty"], "")
        XCTAssertEqual(h2["list"], [1, 2])
        XCTAssertEqual(h2["neg"], -3)
    }

    func testVarsSectionValues() throws {
        let text = """
            [web]
            w1
            [web:vars]
            port = 8080
            name = "quoted"
            flag=False
            path=/srv/www
            spaced = a value with spaces
            trailing = plain # not a comment here
            literal = 23 # a comment here
            """
        let inventory = try Inventory(text: text, file: "hosts.ini")
        let vars = try XCTUnwrap(inventory.group(named: "web")).variables
        XCTAssertEqual(vars["port"], 8080)
        XCTAssertEqual(vars["name"], "quoted")
        XCTAssertEqual(vars["flag"], false)
        XCTAssertEqual(vars["path"], "/srv/www")
        XCTAssertEqual(vars["spaced"], "a value with spaces")
        XCTAssertEqual(vars["trailing"], "plain # not a comment here")
        XCTAssertEqual(vars["literal"], 23)
        XCTAssertEqual(inventory.warnings.count, 1)
        XCTAssertTrue(inventory.warnings[0].description.hasPrefix("hosts.ini:9:1: the value of 'trailing' includes '# not a comment here'"), inventory.warnings[0].description)
    }

    func testCommentsAndBlankLines() throws {
        let text = """
            # leading comment
            ; semicolon comment

            [db]   # section comment
              db1   # host comment
            ;db2
            """
        let inventory = try Inventory(text: text, file: "hosts.ini")
        XCTAssertEqual(inventory.hostNames, ["db1"])
        XCTAssertEqual(inventory.host(named: "db1")?.location, SourceLocation(file: "hosts.ini", line: 5, column: 3))
    }

    func testHostRanges() throws {
        let text = """
            [web]
            web[01:03].example.com
            [db]
            db-[a:c]
            [step]
            s[0:10:5]
            [multi]
            r[1:2]-[x:y]
            [ported]
            p[1:2]:2222
            """
        let inventory = try Inventory(text: text, file: "hosts.ini")
        XCTAssertEqual(inventory.group(named: "web")?.hosts, ["web01.example.com", "web02.example.com", "web03.example.com"])
        XCTAssertEqual(inventory.group(named: "db")?.hosts, ["db-a", "db-b", "db-c"])
        XCTAssertEqual(inventory.group(named: "step")?.hosts, ["s0", "s5", "s10"])
        XCTAssertEqual(inventory.group(named: "multi")?.hosts, ["r1-x", "r1-y", "r2-x", "r2-y"])
        XCTAssertEqual(inventory.group(named: "ported")?.hosts, ["p1", "p2"])
        XCTAssertEqual(inventory.variables(for: "p2")["ansible_port"], 2222)
        XCTAssertEqual(inventory.variables(for: "web02.example.com")["inventory_hostname_short"], "web02")
    }

    func testHostWithPortAndIPv6() throws {
        let inventory = try Inventory(text: "a.example.com:2222\n[v6]\n[fe80::1]:2200\n2001:db8::5\n", file: "hosts")
        XCTAssertEqual(inventory.hostNames, ["a.example.com", "fe80::1", "2001:db8::5"])
        XCTAssertEqual(inventory.variables(for: "a.example.com")["ansible_port"], 2222)
        XCTAssertEqual(inventory.variables(for: "fe80::1")["ansible_port"], 2200)
        XCTAssertNil(inventory.variables(for: "2001:db8::5")["ansible_port"])
        XCTAssertEqual(inventory.variables(for: "2001:db8::5")["inventory_hostname_short"], "2001:db8::5")
    }

    func testChildrenDeclaredLaterAndUngroupedCleanup() throws {
        let text = """
            loose
            both
            [servers:children]
            web
            db
            [web]
            web1
            both
            [db]
            db1
            [servers:vars]
            tier=backend
            """
        let inventory = try Inventory(text: text, file: "hosts.ini")
        XCTAssertEqual(inventory.group(named: "servers")?.children, ["web", "db"])
        XCTAssertEqual(inventory.group(named: "web")?.parents, ["servers"])
        XCTAssertEqual(inventory.group(named: "ungrouped")?.hosts, ["loose"])
        XCTAssertEqual(inventory.host(named: "both")?.groups, ["web"])
        XCTAssertEqual(inventory.group(named: "all")?.children, ["ungrouped", "servers"])
        XCTAssertEqual(inventory.variables(for: "db1")["tier"], "backend")
        XCTAssertEqual(inventory.variables(for: "db1")["group_names"], ["db", "servers"])
        XCTAssertEqual(inventory.group(named: "web")?.depth, 2)
        XCTAssertNil(inventory.variables(for: "loose")["tier"])
    }

    func testVarsBeforeDeclarationAndAllVars() throws {
        let text = """
            [all:vars]
            ntp=pool.ntp.org
            [web:vars]
            http_port=80
            [web]
            w1 http_port=8080
            w2
            """
        let inventory = try Inventory(text: text, file: "hosts.ini")
        XCTAssertEqual(inventory.variables(for: "w1")["http_port"], 8080)
        XCTAssertEqual(inventory.variables(for: "w2")["http_port"], 80)
        XCTAssertEqual(inventory.variables(for: "w2")["ntp"], "pool.ntp.org")
    }

    func testExtensionlessFilesAreDetected() throws {
        let ini = try Inventory(text: "[web]\nw1\n", file: "hosts")
        XCTAssertEqual(ini.hostNames, ["w1"])
        let yaml = try Inventory(text: "all:\n  hosts:\n    y1:\n", file: "hosts")
        XCTAssertEqual(yaml.hostNames, ["y1"])
        let single = try Inventory(text: Self.localINI, file: "inventory")
        XCTAssertEqual(single.hostNames, ["localhost"])
    }

    func testHostListSource() throws {
        let inventory = try Inventory(sources: ["localhost,web1:2222, web2"])
        XCTAssertEqual(inventory.hostNames, ["localhost", "web1", "web2"])
        XCTAssertEqual(inventory.variables(for: "web1")["ansible_port"], 2222)
        XCTAssertEqual(inventory.group(named: "ungrouped")?.hosts, ["localhost", "web1", "web2"])
    }
}
