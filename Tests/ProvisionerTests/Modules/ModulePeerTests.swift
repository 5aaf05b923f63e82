import Foundation
import XCTest

/// The file-level modules against `ansible-playbook` itself: one play run twice
/// by each into its own folder must give the same task statuses and the
/// same tree (types, modes, link targets, contents) after every run. The play is
/// deliberately not idempotent in places, so reruns exercise real edits.
final class ModulePeerTests: XCTestCase {
    static let play = """
    - hosts: localhost
      gather_facts: false
      vars: {site_name: web, site_port: 8080}
      tasks:
        - name: base directory
          file: {path: "{{ root }}/etc/app", state: directory, mode: "0750"}
        - name: nested directories
          file: {path: "{{ root }}/srv/a/b/c", state: directory, mode: "0700"}
        - name: copy content
          copy: {dest: "{{ root }}/etc/app/motd", content: "hello\\n", mode: "0640"}
        - name: copy a file into a directory
          copy: {src: app.conf, dest: "{{ root }}/etc/app/"}
        - name: copy into a new directory
          copy: {src: app.conf, dest: "{{ root }}/opt/new/", directory_mode: "0755"}
        - name: copy checked by validate
          copy: {dest: "{{ root }}/etc/app/validated", content: "ok\\n", validate: "grep -q ok %s"}
        - name: template
          template: {src: site.j2, dest: "{{ root }}/etc/app/site.conf", mode: "0644"}
        - name: touch keeping times
          file: {path: "{{ root }}/etc/app/flag", state: touch, modification_time: preserve, access_time: preserve}
        - name: link
          file: {path: "{{ root }}/etc/app/current", state: link, src: site.conf}
        - name: dangling link
          file: {path: "{{ root }}/etc/app/dangling", state: link, src: /nonexistent/x, force: true}
        - name: lineinfile create
          lineinfile: {path: "{{ root }}/etc/app/hosts", line: "127.0.0.1 localhost", create: true, mode: "0644"}
        - name: lineinfile replace
          lineinfile: {path: "{{ root }}/etc/app/hosts", regexp: '^127\\.0\\.0\\.1', line: "127.0.0.1 localhost app"}
        - name: lineinfile at the start
          lineinfile: {path: "{{ root }}/etc/app/hosts", line: "# hosts", insertbefore: BOF}
        - name: lineinfile backrefs
          lineinfile: {path: "{{ root }}/etc/app/hosts", regexp: '^(127\\S+)\\s+(.*)$', line: '\\2 = \\1', backrefs: true}
        - name: lineinfile absent
          lineinfile: {path: "{{ root }}/etc/app/hosts", line: "nothing", state: absent}
        - name: command guarded by creates
          command: "touch {{ root }}/etc/app/made"
          args: {creates: "{{ root }}/etc/app/made"}
        - name: shell guarded by creates
          shell: "echo hi > {{ root }}/etc/app/shell.out"
          args: {creates: "{{ root }}/etc/app/shell.out"}
        - name: recurse
          file: {path: "{{ root }}/srv", state: directory, recurse: true, mode: "u=rwX,g=rX,o="}
        - name: absent
          file: {path: "{{ root }}/srv/a/b/c", state: absent}
        - name: attributes only
          file: {path: "{{ root }}/etc/app/motd", mode: "0600"}
    """

    func testSameStatusesAndTreesAsAnsible() throws {
        let venv = ProcessInfo.processInfo.environment["PROVISION_ANSIBLE_VENV"] ?? "/tmp/provision-ansible-venv"
        guard FileManager.default.isExecutableFile(atPath: venv + "/bin/ansible-playbook") else {
            throw XCTSkip("ansible-playbook is not installed in \(venv) (scripts/test.sh installs it)")
        }
        let binary = try TestSupport.provisionBinary().path
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provision-modpeer-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        for sub in ["files", "templates", "ansible", "provision"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try Data(Self.play.utf8).write(to: folder.appendingPathComponent("play.yml"))
        try Data("listen 80\n".utf8).write(to: folder.appendingPathComponent("files/app.conf"))
        try Data("server {{ site_name }}\nport {{ site_port }}\n".utf8).write(to: folder.appendingPathComponent("templates/site.j2"))
        var environment = ProcessInfo.processInfo.environment
        environment["ANSIBLE_LOCALHOST_WARNING"] = "False"
        environment["ANSIBLE_INVENTORY_UNPARSED_WARNING"] = "False"
        environment["ANSIBLE_PYTHON_INTERPRETER"] = venv + "/bin/python"
        environment["ANSIBLE_HOME"] = folder.appendingPathComponent(".ansible").path
        let play = folder.appendingPathComponent("play.yml").path
        for run in 1...2 {
            let ansible = try TestSupport.run(venv + "/bin/ansible-playbook",
                                              ["-c", "local", "-i", "localhost,", play, "-e", "root=\(folder.path)/ansible"],
                                              environment: environment, in: folder)
            XCTAssertEqual(ansible.status, 0, ansible.stdout + ansible.stderr)
            let ours = try TestSupport.run(binary, ["apply", play, "-e", "root=\(folder.path)/provision"], environment: environment, in: folder)
            XCTAssertEqual(ours.status, 0, ours.stdout + ours.stderr)
            XCTAssertEqual(statuses(ours.stdout), statuses(ansible.stdout), "run \(run)")
            XCTAssertEqual(try tree(folder.appendingPathComponent("provision")), try tree(folder.appendingPathComponent("ansible")), "run \(run)")
        }
    }

    /// "TASK [name] changed" per task, from either program's text output.
    func statuses(_ output: String) -> [String] {
        var result: [String] = [], task = ""
        for line in output.split(separator: "\n") {
            if line.hasPrefix("TASK [") { task = String(line.prefix { $0 != "]" }) + "]" }
            for word in ["ok:", "changed:", "skipping:", "fatal:"] where line.hasPrefix(word) { result.append("\(task) \(word)") }
        }
        return result
    }

    /// Every path below `root`: type, mode, link target or content.
    func tree(_ root: URL) throws -> [String] {
        let paths = try FileManager.default.subpathsOfDirectory(atPath: root.path).sorted()
        return try paths.map { sub in
            let path = root.appendingPathComponent(sub).path
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let type = attributes[.type] as? FileAttributeType
            let mode = String((attributes[.posixPermissions] as? Int) ?? 0, radix: 8)
            if type == .typeSymbolicLink { return "\(sub) link \(try FileManager.default.destinationOfSymbolicLink(atPath: path))" }
            if type == .typeDirectory { return "\(sub) dir \(mode)" }
            return "\(sub) file \(mode) \(String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self))"
        }
    }
}
