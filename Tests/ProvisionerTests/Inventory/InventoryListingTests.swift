import XCTest
@testable import Provisioner

final class InventoryListingTests: XCTestCase {
    func testListTextMatchesAnsibleInventory() throws {
        let inventory = try Inventory(text: InventoryINITests.localINI, file: "local.ini")
        XCTAssertEqual(inventory.listJSONText(), """
            {
                "_meta": {
                    "hostvars": {
                        "localhost": {
                            "ansible_connection": "local",
                            "peer_root": "/tmp/peerbench/root"
                        }
                    }
                },
                "all": {
                    "children": [
                        "ungrouped"
                    ]
                },
                "ungrouped": {
                    "hosts": [
                        "localhost"
                    ]
                }
            }
            """)
    }

    func testListOfFleet() throws {
        let list = try Inventory(text: InventoryINITests.fleetINI, file: "fleet.ini").listJSON()
        XCTAssertEqual(list.dict?.keys, ["_meta", "all", "fleet"])   // sorted, empty ungrouped left out
        XCTAssertEqual(list["all"], ["children": ["ungrouped", "fleet"]])
        XCTAssertEqual(list["fleet"], ["hosts": ["fleet1", "fleet2", "fleet3", "fleet4", "fleet5"]])
        let fleet2 = try XCTUnwrap(list["_meta"]?["hostvars"]?["fleet2"]?.dict)
        XCTAssertEqual(fleet2.keys, ["ansible_control_path", "ansible_host", "ansible_port", "ansible_ssh_private_key_file",
                                     "ansible_user", "peer_root"])
        XCTAssertEqual(fleet2["ansible_port"], 2201)
        XCTAssertNil(fleet2["inventory_hostname"])
    }

    func testListOfNestedGroupsAndVarsFiles() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("inv/hosts.ini", InventoryPatternTests.text)
        try scratch.write("inv/group_vars/web.yml", "tier: front\n")
        let list = try Inventory(sources: [scratch.path("inv/hosts.ini")]).listJSON()
        XCTAssertEqual(list.dict?.keys, ["_meta", "all", "db", "prod", "staging", "ungrouped", "web"])
        XCTAssertEqual(list["prod"], ["children": ["web", "db"]])
        XCTAssertEqual(list["db"], ["hosts": ["db1", "web2"]])
        XCTAssertEqual(list["_meta"]?["hostvars"], ["web1": ["tier": "front"], "web2": ["tier": "front"], "web10": ["tier": "front"]])
    }

    func testGraph() throws {
        let inventory = try Inventory(text: InventoryPatternTests.text, file: "hosts.ini")
        XCTAssertEqual(inventory.graph(), """
            @all:
              |--@ungrouped:
              |  |--loner
              |--@staging:
              |  |--web1
              |  |--db1
              |--@prod:
              |  |--@web:
              |  |  |--web1
              |  |  |--web2
              |  |  |--web10
              |  |--@db:
              |  |  |--db1
              |  |  |--web2
            """)
    }

    func testGraphOfEmptyInventory() {
        XCTAssertEqual(Inventory().graph(), "@all:\n  |--@ungrouped:")
        XCTAssertEqual(Inventory().listJSON(), ["_meta": ["hostvars": [:]], "all": ["children": ["ungrouped"]]])
    }

    func testPythonJSONEscapes() {
        var out = ""
        Inventory.writePythonJSON(["k": "tab\there \u{1} é \"q\"", "f": 1.0, "e": [], "d": [:]], indent: 0, to: &out)
        XCTAssertEqual(out, "{\n    \"k\": \"tab\\there \\u0001 é \\\"q\\\"\",\n    \"f\": 1.0,\n    \"e\": [],\n    \"d\": {}\n}")
    }
}
