import XCTest
@testable import Provisioner

final class InventoryVariablesTests: XCTestCase {
    private var scratch: Scratch!

    override func setUpWithError() throws { scratch = try Scratch() }
    override func tearDown() { scratch.remove() }

    /// Ansible's order, low to high, for host `h` in group `child` (a child of `parent`).
    static let layers = [
        "inventory file: all",
        "inventory file: parent",
        "inventory file: child",
        "inventory group_vars/all",
        "playbook group_vars/all",
        "inventory group_vars/parent",
        "inventory group_vars/child",
        "playbook group_vars/parent",
        "playbook group_vars/child",
        "inventory file: host",
        "inventory host_vars/h",
        "playbook host_vars/h",
    ]

    /// Layer n sets t_n ... t_last, so t_n must come out as layer n: it beats every layer below it.
    private func yaml(forLayer n: Int, indent: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent)
        return (n..<Self.layers.count).map { "\(pad)t\($0): \"\(Self.layers[n])\"\n" }.joined()
    }

    private func buildPrecedenceTree() throws -> Inventory {
        try scratch.write("inventory/hosts.yml", """
            all:
              vars:
            \(yaml(forLayer: 0, indent: 4))  children:
                parent:
                  vars:
            \(yaml(forLayer: 1, indent: 8))      children:
                    child:
                      vars:
            \(yaml(forLayer: 2, indent: 12))          hosts:
                        h:
            \(yaml(forLayer: 9, indent: 14))
            """)
        try scratch.write("inventory/group_vars/all.yml", yaml(forLayer: 3))
        try scratch.write("playbooks/group_vars/all", yaml(forLayer: 4))                  // extensionless file
        try scratch.write("inventory/group_vars/parent.yaml", yaml(forLayer: 5))
        try scratch.write("inventory/group_vars/child/main.yml", yaml(forLayer: 6))        // folder form
        try scratch.write("playbooks/group_vars/parent.json", jsonForLayer(7))
        try scratch.write("playbooks/group_vars/child.yml", yaml(forLayer: 8))
        try scratch.write("inventory/host_vars/h.yml", yaml(forLayer: 10))
        try scratch.write("playbooks/host_vars/h/vars.yml", yaml(forLayer: 11))
        return try Inventory(sources: [scratch.path("inventory/hosts.yml")], playbookDirectory: scratch.path("playbooks"))
    }

    private func jsonForLayer(_ n: Int) -> String {
        "{" + (n..<Self.layers.count).map { "\"t\($0)\": \"\(Self.layers[n])\"" }.joined(separator: ", ") + "}"
    }

    func testPrecedenceChainCaseByCase() throws {
        let inventory = try buildPrecedenceTree()
        let vars = inventory.variables(for: "h")
        for (n, layer) in Self.layers.enumerated() {
            XCTAssertEqual(vars["t\(n)"], .string(layer), "t\(n) should come from \(layer)")
        }
        XCTAssertTrue(inventory.warnings.isEmpty, "\(inventory.warnings)")
    }

    func testGroupVarsFolderMergesFilesInNameOrder() throws {
        try scratch.write("inv/hosts.ini", "[web]\nw1\n")
        try scratch.write("inv/group_vars/web/10-base.yml", "a: base\nb: base\nc: base\nnested: {x: 1, y: 1}\n")
        try scratch.write("inv/group_vars/web/20-site.yaml", "b: site\nnested: {x: 2}\n")
        try scratch.write("inv/group_vars/web/30-more/z.json", #"{"c": "deeper"}"#)
        try scratch.write("inv/group_vars/web/notes.txt", "a: ignored\n")
        try scratch.write("inv/group_vars/web/.hidden.yml", "a: hidden\n")
        try scratch.write("inv/group_vars/web/zz.yml~", "a: backup\n")
        try scratch.write("inv/group_vars/web/empty.yml", "")
        let vars = try Inventory(sources: [scratch.path("inv/hosts.ini")]).variables(for: "w1")
        XCTAssertEqual(vars["a"], "base")
        XCTAssertEqual(vars["b"], "site")
        XCTAssertEqual(vars["c"], "deeper")
        XCTAssertEqual(vars["nested"], ["x": 2])   // files replace whole top-level keys
    }

    func testOnlyTheFirstOfNameAndItsExtensionsIsRead() throws {
        try scratch.write("inv/hosts.ini", "[web]\nw1\n")
        try scratch.write("inv/group_vars/web.yml", "source: yml\n")
        try scratch.write("inv/group_vars/web.yaml", "source: yaml\n")
        let inventory = try Inventory(sources: [scratch.path("inv/hosts.ini")])
        XCTAssertEqual(inventory.variables(for: "w1")["source"], "yml")
        XCTAssertEqual(inventory.warnings.count, 1)
        XCTAssertTrue(inventory.warnings[0].message.contains("group_vars/web.yaml is not read"), inventory.warnings[0].message)
    }

    func testMisspeltVarsFileWarns() throws {
        try scratch.write("inv/hosts.yml", "all:\n  children:\n    linux_servers:\n      hosts:\n        motoko:\n")
        try scratch.write("inv/host_vars/motok.yml", "x: 1\n")
        try scratch.write("inv/group_vars/linux_server.yml", "x: 1\n")
        try scratch.write("inv/group_vars/unrelated.yml", "x: 1\n")
        let inventory = try Inventory(sources: [scratch.path("inv/hosts.yml")])
        let messages = inventory.warnings.map(\.message).sorted()
        XCTAssertEqual(messages.count, 2, "\(messages)")
        XCTAssertTrue(messages[0].hasSuffix("group_vars/linux_server.yml matches no group in the inventory (did you mean 'linux_servers'?)"), messages[0])
        XCTAssertTrue(messages[1].hasSuffix("host_vars/motok.yml matches no host in the inventory (did you mean 'motoko'?)"), messages[1])
    }

    /// The layout the seeds describe: `host_vars/motoko/containers.yml` beside `hosts.yml`.
    func testSeedLayoutHostVarsFolder() throws {
        try scratch.write("inventory/hosts.yml", InventoryYAMLTests.projectInventory)
        try scratch.write("inventory/host_vars/motoko/containers.yml", """
            podman_graphroot: /space/containers/engine/podman
            podman_runroot: /run/containers/storage
            podman_nvidia_enabled: true
            """)
        let inventory = try Inventory(sources: [scratch.path("inventory/hosts.yml")])
        let vars = inventory.variables(for: "motoko")
        XCTAssertEqual(vars["podman_graphroot"], "/space/containers/engine/podman")
        XCTAssertEqual(vars["podman_runroot"], "/run/containers/storage")
        XCTAssertEqual(vars["podman_nvidia_enabled"], true)
        XCTAssertNil(inventory.variables(for: "batou")["podman_graphroot"])
    }

    func testDirectorySourceReadsEveryInventoryFileAndItsVars() throws {
        try scratch.write("inv/10-web.yml", "all:\n  children:\n    web:\n      hosts:\n        w1:\n")
        try scratch.write("inv/20-db", "[db]\nd1\n")
        try scratch.write("inv/sub/30-more.ini", "[db]\nd2\n")
        try scratch.write("inv/README.md", "# not an inventory\n")
        try scratch.write("inv/ansible.cfg", "[defaults]\n")
        try scratch.write("inv/group_vars/db.yml", "engine: postgres\n")
        try scratch.write("inv/host_vars/w1.yml", "role: web\n")
        let inventory = try Inventory(sources: [scratch.path("inv")])
        XCTAssertEqual(inventory.hostNames, ["w1", "d1", "d2"])
        XCTAssertEqual(inventory.variables(for: "d2")["engine"], "postgres")
        XCTAssertEqual(inventory.variables(for: "w1")["role"], "web")
        XCTAssertEqual(inventory.sourceFiles.map { ($0 as NSString).lastPathComponent }, ["10-web.yml", "20-db", "30-more.ini"])
    }

    func testGroupsOfEqualDepthOrderByName() throws {
        let text = """
            [b_group]
            h
            [a_group]
            h
            [a_group:vars]
            x=a
            [b_group:vars]
            x=b
            """
        XCTAssertEqual(try Inventory(text: text, file: "hosts.ini").variables(for: "h")["x"], "b")
    }

    func testDeeperGroupWinsOverName() throws {
        let text = """
            [zeta:children]
            alpha
            [alpha]
            h
            [zeta:vars]
            x=zeta
            [alpha:vars]
            x=alpha
            """
        let inventory = try Inventory(text: text, file: "hosts.ini")
        XCTAssertEqual(inventory.group(named: "alpha")?.depth, 2)
        XCTAssertEqual(inventory.variables(for: "h")["x"], "alpha")
    }

    func testDepthIsTheLongestPathFromAll() throws {
        let text = """
            [top:children]
            mid
            side
            [mid:children]
            leaf
            [side:children]
            mid
            [leaf]
            h
            [top:vars]
            x=top
            [side:vars]
            x=side
            [mid:vars]
            x=mid
            """
        let inventory = try Inventory(text: text, file: "hosts.ini")
        XCTAssertEqual(inventory.groups.map(\.depth), [0, 1, 1, 3, 2, 4])   // all ungrouped top mid side leaf
        XCTAssertEqual(inventory.variables(for: "h")["x"], "mid")
        XCTAssertEqual(inventory.variables(for: "h")["group_names"], ["leaf", "mid", "side", "top"])
    }

    func testGroupPriorityBreaksTiesAtEqualDepth() throws {
        let text = """
            [a_group]
            h
            [b_group]
            h
            [a_group:vars]
            x=a
            ansible_group_priority=10
            [b_group:vars]
            x=b
            """
        let inventory = try Inventory(text: text, file: "hosts.ini")
        XCTAssertEqual(inventory.group(named: "a_group")?.priority, 10)
        XCTAssertNil(inventory.group(named: "a_group")?.variables["ansible_group_priority"])
        XCTAssertEqual(inventory.variables(for: "h")["x"], "a")
    }

    func testImplicitLocalhostVariables() throws {
        try scratch.write("inv/hosts.yml", "all:\n  vars:\n    ansible_connection: ssh\n    region: eu\n  hosts:\n    web1:\n")
        try scratch.write("inv/group_vars/all.yml", "from_group_vars: yes\n")
        try scratch.write("inv/host_vars/localhost.yml", "from_host_vars: yes\n")
        let inventory = try Inventory(sources: [scratch.path("inv/hosts.yml")])
        XCTAssertTrue(inventory.isImplicitLocalhost("localhost"))
        let vars = inventory.variables(for: "localhost")
        XCTAssertEqual(vars["ansible_connection"], "local")
        XCTAssertEqual(vars["region"], "eu")
        XCTAssertEqual(vars["from_group_vars"], true)
        XCTAssertEqual(vars["from_host_vars"], true)
        XCTAssertEqual(vars["group_names"], [])
        XCTAssertEqual(vars["groups"]?["all"], ["web1"])
        XCTAssertTrue(inventory.warnings.isEmpty, "\(inventory.warnings)")
    }

    func testMagicVariables() throws {
        let inventory = try Inventory(text: "[web]\nweb1.example.com\n10.0.0.7\n[db]\ndb1\n", file: "hosts.ini")
        let vars = inventory.variables(for: "web1.example.com")
        XCTAssertEqual(vars["inventory_hostname"], "web1.example.com")
        XCTAssertEqual(vars["inventory_hostname_short"], "web1")
        XCTAssertEqual(inventory.variables(for: "10.0.0.7")["inventory_hostname_short"], "10.0.0.7")
        XCTAssertEqual(vars["groups"], ["all": ["web1.example.com", "10.0.0.7", "db1"], "ungrouped": [],
                                        "web": ["web1.example.com", "10.0.0.7"], "db": ["db1"]])
        XCTAssertNil(vars["ansible_host"])
    }
}
