import XCTest
@testable import Provisioner

final class InventoryYAMLTests: XCTestCase {
    /// The project's own inventory shape (DESIGN §6, seed 004).
    static let projectInventory = """
        all:
          children:
            linux_servers:
              hosts:
                motoko:
                  ansible_host: motoko.lan
            linux_workstations:
              hosts:
                batou:
                  ansible_connection: local
        """

    func testProjectInventory() throws {
        let inventory = try Inventory(text: Self.projectInventory, file: "inventory/hosts.yml")
        XCTAssertEqual(inventory.hostNames, ["motoko", "batou"])
        XCTAssertEqual(inventory.group(named: "all")?.children, ["ungrouped", "linux_servers", "linux_workstations"])
        XCTAssertEqual(inventory.variables(for: "motoko")["ansible_host"], "motoko.lan")
        XCTAssertEqual(inventory.variables(for: "motoko")["group_names"], ["linux_servers"])
        XCTAssertEqual(inventory.variables(for: "batou")["ansible_connection"], "local")
        XCTAssertEqual(inventory.host(named: "batou")?.location, SourceLocation(file: "inventory/hosts.yml", line: 9, column: 9))
    }

    /// Ansible's documented YAML example, nested three deep, with a bare-string host entry.
    func testNestedChildren() throws {
        let text = """
            all:
              hosts:
                test1:
                test2:
                  host_var: value
              vars:
                group_all_var: value
              children:
                other_group:
                  children:
                    group_x:
                      hosts:
                        test5
                    group_y:
                      hosts:
                        test6:
                  vars:
                    g2_var2: value3
                  hosts:
                    test4:
                      ansible_host: 127.0.0.1
                last_group:
                  hosts:
                    test1
                  vars:
                    group_last_var: value
            """
        let inventory = try Inventory(text: text, file: "hosts.yaml")
        XCTAssertEqual(inventory.hostNames, ["test1", "test2", "test5", "test6", "test4"])
        XCTAssertEqual(inventory.group(named: "other_group")?.children, ["group_x", "group_y"])
        XCTAssertEqual(inventory.group(named: "group_x")?.depth, 2)
        XCTAssertEqual(inventory.group(named: "last_group")?.hosts, ["test1"])
        // test2 sits directly in `all`, so Ansible also files it under `ungrouped`; test1 is in last_group.
        XCTAssertEqual(inventory.group(named: "ungrouped")?.hosts, ["test2"])
        let test5 = inventory.variables(for: "test5")
        XCTAssertEqual(test5["g2_var2"], "value3")
        XCTAssertEqual(test5["group_all_var"], "value")
        XCTAssertEqual(test5["group_names"], ["group_x", "other_group"])
        XCTAssertEqual(inventory.variables(for: "test1")["group_last_var"], "value")
        XCTAssertEqual(inventory.variables(for: "test2")["host_var"], "value")
        XCTAssertEqual(inventory.variables(for: "test4")["ansible_host"], "127.0.0.1")
        XCTAssertEqual(inventory.hostNames(inGroup: "other_group"), ["test4", "test5", "test6"])
    }

    func testYAMLValuesKeepTheirTypes() throws {
        let text = """
            all:
              hosts:
                h:
                  port: "22"
                  mode: 0755
                  enabled: yes
                  list: [a, b]
                  nested: {k: v}
            """
        let vars = try Inventory(text: text, file: "hosts.yml").variables(for: "h")
        XCTAssertEqual(vars["port"], "22")
        XCTAssertEqual(vars["mode"], 493)
        XCTAssertEqual(vars["enabled"], true)
        XCTAssertEqual(vars["list"], ["a", "b"])
        XCTAssertEqual(vars["nested"], ["k": "v"])
    }

    func testRangesAndPortsInYAMLHostKeys() throws {
        let text = """
            all:
              children:
                web:
                  hosts:
                    web[1:3]:
                      role: frontend
                    "edge.example.com:2222":
            """
        let inventory = try Inventory(text: text, file: "hosts.yml")
        XCTAssertEqual(inventory.group(named: "web")?.hosts, ["web1", "web2", "web3", "edge.example.com"])
        XCTAssertEqual(inventory.variables(for: "web2")["role"], "frontend")
        XCTAssertEqual(inventory.variables(for: "edge.example.com")["ansible_port"], 2222)
    }

    func testUnknownKeysWarnWithSuggestion() throws {
        let text = """
            all:
              children:
                web:
                  host:
                    w1:
                  hosts:
                    w2:
            """
        let inventory = try Inventory(text: text, file: "hosts.yml")
        XCTAssertEqual(inventory.hostNames, ["w2"])
        XCTAssertEqual(inventory.warnings.map(\.description), [
            "hosts.yml:4:7: skipping unexpected key 'host' in group 'web': only 'hosts', 'children' and 'vars' are valid (did you mean 'hosts'?)",
        ])
    }

    func testTopLevelGroupsBesideAll() throws {
        let text = """
            web:
              hosts:
                w1:
            db:
              hosts: d1
            all:
              vars:
                region: eu
            """
        let inventory = try Inventory(text: text, file: "hosts.yml")
        XCTAssertEqual(inventory.group(named: "all")?.children, ["ungrouped", "web", "db"])
        XCTAssertEqual(inventory.variables(for: "d1")["region"], "eu")
    }

    func testEmptyGroupsAndNullSections() throws {
        let text = """
            all:
              children:
                empty:
                nulls:
                  hosts:
                  vars:
            """
        let inventory = try Inventory(text: text, file: "hosts.yml")
        XCTAssertNotNil(inventory.group(named: "empty"))
        XCTAssertNotNil(inventory.group(named: "nulls"))
        XCTAssertTrue(inventory.hostNames.isEmpty)
    }

    func testJSONInventory() throws {
        let text = #"{"all": {"children": {"web": {"hosts": {"w1": {"port": 80}}}}}}"#
        let inventory = try Inventory(text: text, file: "hosts.json")
        XCTAssertEqual(inventory.variables(for: "w1")["port"], 80)
    }

    func testSeveralSourcesMerge() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let first = try scratch.write("a.yml", "all:\n  children:\n    web:\n      hosts:\n        w1:\n          x: 1\n")
        let second = try scratch.write("b.ini", "[web]\nw1 x=2\nw2\n[web:vars]\ny=3\n")
        let inventory = try Inventory(sources: [first, second])
        XCTAssertEqual(inventory.hostNames, ["w1", "w2"])
        XCTAssertEqual(inventory.variables(for: "w1")["x"], 2)
        XCTAssertEqual(inventory.variables(for: "w1")["y"], 3)
        XCTAssertEqual(inventory.sourceFiles, [first, second])
        XCTAssertEqual(inventory.variables(for: "w2")["inventory_file"], .string(second))
        XCTAssertEqual(inventory.variables(for: "w2")["inventory_dir"], .string(scratch.root.standardizedFileURL.path))
    }
}
