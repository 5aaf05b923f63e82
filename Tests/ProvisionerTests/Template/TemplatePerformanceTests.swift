import XCTest
@testable import Provisioner

/// A converged playbook run renders the same few hundred strings for every host and item;
/// parsing once and evaluating cheaply keeps that far below the 0.1 s budget.
final class TemplatePerformanceTests: XCTestCase {
    func testConvergedRunRendersQuickly() throws {
        let vars = TemplateTesting.variables("""
        app_root: "{{ base_dir | default('/srv') }}/app"
        base_dir: /opt
        config_dir: "{{ app_root }}/etc"
        users: [{name: a, uid: 1}, {name: b, uid: 2}, {name: c, uid: 3}]
        podman_graphroot: /space/containers/engine/podman
        ports: [8080, 8443]
        enabled: true
        facts: {distribution: Debian, version: "12", memtotal_mb: 16000}
        """)
        let arguments: [Value] = [
            ["dest": "{{ config_dir }}/app.conf", "mode": "0644", "content": "root={{ app_root }}\nusers={{ users | map(attribute='name') | join(',') }}\n"],
            ["name": "{{ item.name }}", "uid": "{{ item.uid }}", "groups": ["wheel", "{{ 'docker' if enabled else 'users' }}"]],
            ["key": "storage.graphroot", "value": "{{ podman_graphroot }}", "ports": "{{ ports | map('string') | list }}"],
            ["path": "/etc/motd", "line": "Host {{ facts.distribution }} {{ facts.version }} ({{ (facts.memtotal_mb / 1024) | round(1) }} GiB)"],
        ]
        let conditions = ["enabled", "facts.distribution == 'Debian'", "facts.version is version('11', '>=')", "item.uid > 1 and enabled"]
        let start = Date()
        for host in 0..<20 {
            for task in 0..<25 {
                for item in [["name": "a", "uid": 1], ["name": "b", "uid": 2]] as [Value] {
                    var scope = vars
                    scope["item"] = item
                    scope["inventory_hostname"] = .string("host\(host)")
                    let templar = Templar(variables: scope)
                    _ = try templar.render(arguments[task % arguments.count])
                    _ = try templar.isTrue(conditions[task % conditions.count])
                }
            }
        }
        let elapsed = Date().timeIntervalSince(start)
        // 1,000 task renders (20 hosts x 25 tasks x 2 items), debug build included.
        XCTAssertLessThan(elapsed, 1.0, "rendering took \(elapsed) s")
        print("TemplatePerformanceTests: 1000 task renders in \(String(format: "%.3f", elapsed)) s")
    }
}
