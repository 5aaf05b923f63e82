import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// Issue 9 §2: `provision validate` on playbooks shaped like real ones (roles, includes, k=v, templates)
/// reports every problem in one run, each with file:line:col, and says what Ansible has and provision
/// lacks as such rather than as a typo.
final class EngineValidateTests: XCTestCase {
    struct Project {
        var name: String
        var files: [String: String]
        /// Every problem validate must report: file, line, column and words of the message.
        var expected: [(file: String, line: Int, column: Int, text: String)]
        var arguments: [String] = []
    }

    static let projects: [Project] = [
        Project(name: "a web role, an include and k=v arguments", files: [
            "site.yml": """
            - hosts: all
              gather_facts: false
              vars_prompt:
                - name: db_password
                  prompt: database password
              roles:
                - web
              tasks:
                - name: kv with templates
                  file: path={{ base_dir }}/data state=directory mdoe=0755
                - name: typo in a filter
                  debug: msg="{{ base_dir | uppr }}"
                - name: a test that does not exist
                  debug: msg=x
                  when: base_dir is fancy
                - include_tasks: extra.yml
                - name: background
                  command: sleep 10
                  async: soon
                - community.general.ufw: {rule: allow}
                - authorized_key: {user: x, key: y}
                - set_fact: ok_var=1
                - copy: {dest: /tmp/x, content: "{{ ok_var }}", bogus: 1}
                - meta: end_everything
                - debug: msg=x
                  delegate_factz: true
            """,
            "extra.yml": """
            - name: in the include
              lineinfile: {path: /etc/hosts, line: x, stat: present}
            - debug: msg="{{ 'x' | regex_replace('a') | bogus_filter }}"
            """,
            "roles/web/tasks/main.yml": """
            - name: template
              template: src=index.j2 dest=/var/www/index.html mode=0644 owner={{ web_user }} grop=www
            - name: service
              service: {name: nginx, state: started, enabld: true}
              notify: restart nginx
            - import_tasks: more.yml
            """,
            "roles/web/tasks/more.yml": """
            - name: imported from the role
              copy: {dest: /tmp/y, content: x, moed: "0644"}
              notify: restart apache
            """,
            "roles/web/handlers/main.yml": "- name: restart nginx\n  service: {name: nginx, state: restarted}\n",
            "roles/web/templates/index.j2": "hi\n",
        ], expected: [
            ("site.yml", 4, 7, "vars_prompt 'db_password': provision never prompts; give the value with -e db_password=VALUE"),
            ("site.yml", 10, 7, "module 'file' has no argument 'mdoe' (did you mean 'mode'?)"),
            ("site.yml", 12, 7, "no filter named 'uppr' (did you mean 'upper'?)"),
            ("site.yml", 13, 7, "no test named 'fancy'"),
            ("site.yml", 19, 14, "'async' must be a whole number of seconds"),
            ("site.yml", 20, 7, "'community.general.ufw' is a module of the Ansible collection community.general, which provision does not implement"),
            ("site.yml", 21, 7, "'authorized_key' is the Ansible module ansible.posix.authorized_key, from a collection provision does not implement"),
            ("site.yml", 23, 53, "module 'copy' has no argument 'bogus'"),
            ("site.yml", 24, 7, "'end_everything' is not a meta action"),
            ("site.yml", 26, 7, "'delegate_factz' is neither a module nor a task keyword (did you mean 'delegate_to'?)"),
            ("extra.yml", 2, 43, "module 'lineinfile' has no argument 'stat' (did you mean 'state'?)"),
            ("extra.yml", 3, 3, "no filter named 'bogus_filter'"),
            ("roles/web/tasks/main.yml", 2, 3, "module 'template' has no argument 'grop' (did you mean 'group'?)"),
            ("roles/web/tasks/main.yml", 4, 42, "module 'service' has no argument 'enabld' (did you mean 'enabled'?)"),
            ("roles/web/tasks/more.yml", 2, 36, "module 'copy' has no argument 'moed' (did you mean 'mode'?)"),
            ("roles/web/tasks/more.yml", 3, 11, "no handler 'restart apache' in this play"),
        ]),
        Project(name: "keywords in the wrong place, two plays and an imported playbook", files: [
            "site.yml": """
            - hosts: all
              gather_facts: false
              strategy: free
              connection: docker
              tasks:
                - block:
                    - debug: msg=x
                  register: nope
                  loop: [1, 2]
                - command: echo hi
                  listen: topic
                - local_action: nosuchmodule x=1
                - debug: msg=x
                  become_method: su
            - import_playbook: second.yml
            """,
            "second.yml": """
            - hosts: all
              gather_facts: false
              taks: []
              tasks:
                - shell: echo {{ x | default('a') }}
                  retries: many
                - assert: that="1 == 2" wrong=1
                - debug: var=x msg=y
            """,
        ], expected: [
            ("site.yml", 3, 13, "provision runs plays with Ansible's default 'linear' strategy only, not 'free'"),
            ("site.yml", 4, 15, "provision reaches hosts with the 'local' or 'ssh' connection, not 'docker'"),
            ("site.yml", 8, 7, "'register' is not valid on a block (Ansible allows it on a task or handler)"),
            ("site.yml", 9, 7, "'loop' is not valid on a block (Ansible allows it on a task or handler)"),
            ("site.yml", 11, 7, "'listen' is not valid on a task (Ansible allows it on a handler)"),
            ("site.yml", 12, 21, "no module 'nosuchmodule'"),
            ("site.yml", 14, 22, "provision becomes other users with sudo only, not 'su' (become_method)"),
            ("second.yml", 3, 3, "'taks' is not a play keyword (did you mean 'tags' or 'tasks'?)"),
            ("second.yml", 6, 16, "'retries' must be a whole number"),
            ("second.yml", 7, 7, "'assert' has no argument 'wrong'"),
            ("second.yml", 8, 7, "debug: 'msg' and 'var' are mutually exclusive"),
        ]),
    ]

    func testRealWorldShapedPlaybooksReportEveryProblemInOneRun() throws {
        for project in Self.projects {
            let scratch = try Scratch()
            defer { scratch.remove() }
            for (path, text) in project.files { try scratch.write(path, text + (text.hasSuffix("\n") ? "" : "\n")) }
            let run = try scratch.provision(["validate", "site.yml"] + project.arguments)
            XCTAssertEqual(run.status, 1, "\(project.name): \(run.stdout)\(run.stderr)")
            let lines = run.stderr.split(separator: "\n").map(String.init)
            for problem in project.expected {
                let prefix = "provision: \(scratch.path(problem.file)):\(problem.line):\(problem.column): "
                XCTAssertTrue(lines.contains { $0.hasPrefix(prefix) && $0.contains(problem.text) },
                              "\(project.name): no '\(prefix)\(problem.text)' in:\n\(run.stderr)")
            }
            XCTAssertTrue(run.stderr.contains("provision: \(project.expected.count) problems found; nothing was changed"),
                          "\(project.name): expected exactly \(project.expected.count) problems:\n\(run.stderr)")
        }
    }

    /// One problem each: the message says what is wrong and, where Ansible has the thing, that provision lacks it.
    func testMessagesSayWhatProvisionLacksAndSuggestOnlyCloseNames() throws {
        let registry = ModuleRegistry(ModuleCatalog.all)
        var cases: [(task: String, expected: String, forbidden: String?)] = [
            ("nap: {}", "'nap' is neither a module nor a task keyword", "did you mean"),
            ("frobnicate: {}", "'frobnicate' is neither a module nor a task keyword", "did you mean"),
            ("copyy: {dest: /tmp/x, content: y}", "(did you mean 'copy'?)", nil),
            ("ansible.builtin.nosuch: {}", "'ansible.builtin.nosuch' is neither a module nor a task keyword", nil),
            ("ansible.posix.mount: {}", "'ansible.posix.mount' is a module of the Ansible collection ansible.posix, which provision does not implement", nil),
            ("mount: {}", "'mount' is the Ansible module ansible.posix.mount, from a collection provision does not implement", nil),
            ("debug: msg=x\n      delegate_facts: true", "provision does not implement 'delegate_facts' yet", nil),
            ("debug: msg=x\n      timeout: 5", "provision does not implement Ansible's task 'timeout' yet", nil),
            ("command: sleep 1\n      async: 10\n      poll: often", "'poll' must be a whole number of seconds", nil),
            ("include: other.yml", "'include' was removed in Ansible 2.16: use include_tasks (dynamic) or import_tasks (static)", nil),
            ("debug: hello there", "'debug' takes key=value arguments, not 'hello'", nil),
            ("set_fact: justaword", "'set_fact' takes key=value arguments, not 'justaword'", nil),
            ("debug: msg=\"{{ x | default('a b') }}\" bogus=1", "'debug' has no argument 'bogus'", nil),
            ("file: path={{ p | default('/tmp/a b') }} sate=touch", "module 'file' has no argument 'sate' (did you mean 'state'?)", nil),
            ("debug: msg=\"{{ lookup('nosuchlookup', 'x') }}\"", "no lookup named 'nosuchlookup'", nil),
            ("debug: msg=\"{{ [1] | map('nosuchfilter') | list }}\"", "no filter named 'nosuchfilter'", nil),
            ("debug: msg=\"{{ [1] | select('nosuchtest') | list }}\"", "no test named 'nosuchtest'", nil),
            ("debug: msg=\"{{ x | community.general.json_query('a') }}\"", "'community.general.json_query' is a filter of an Ansible collection, which provision does not implement", nil),
            ("meta: bogus", "'bogus' is not a meta action", nil),
            ("meta: role_complete", "'meta: role_complete' is internal to Ansible; use 'meta: end_role'", nil),
            ("meta: noop\n      loop: [1]", "meta tasks do not loop", nil),
            ("debug: msg=x\n      with_csvfile: [x]", "loops over the 'csvfile' lookup, which provision does not implement yet", nil),
            ("local_action: copy dest=/tmp/x content=y\n      delegate_to: other", "'local_action' already delegates to localhost", nil),
        ]
        // What Ansible has and provision does not, found now: the messages stay right as provision grows.
        if let module = AnsibleNames.modules.sorted().first(where: { registry.resolve($0) == nil && PlaybookKeywords.refusal($0, on: "task") == nil }) {
            cases.append(("\(module): {}", "'\(module)' is an Ansible module provision does not implement yet", "did you mean"))
        }
        if let filter = AnsibleNames.filters.sorted().first(where: { TemplateFilters.named($0) == nil }) {
            cases.append(("debug: msg=\"{{ 'x' | \(filter) }}\"", "'\(filter)' is an Ansible filter provision does not implement yet", nil))
        }
        if let test = AnsibleNames.tests.sorted().first(where: { TemplateTests.named($0) == nil }) {
            cases.append(("debug: msg=x\n      when: x is \(test)", "'\(test)' is an Ansible test provision does not implement yet", nil))
        }
        if let lookup = AnsibleNames.lookups.sorted().first(where: { !TemplateGlobals.lookups.contains($0) }) {
            cases.append(("debug: msg=\"{{ lookup('\(lookup)', 'x') }}\"", "'\(lookup)' is an Ansible lookup provision does not implement yet", nil))
        }
        let scratch = try Scratch()
        defer { scratch.remove() }
        for c in cases {
            try scratch.write("play.yml", "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - \(c.task)\n")
            let run = try scratch.provision(["validate", "play.yml"])
            XCTAssertEqual(run.status, 1, "\(c.task): \(run.stdout)\(run.stderr)")
            XCTAssertTrue(run.stderr.contains("play.yml:4:") || run.stderr.contains("play.yml:5:") || run.stderr.contains("play.yml:6:"),
                          "\(c.task): no file:line:col in \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(c.expected), "\(c.task): '\(c.expected)' not in \(run.stderr)")
            if let forbidden = c.forbidden { XCTAssertFalse(run.stderr.contains(forbidden), "\(c.task): \(run.stderr)") }
        }
    }

    /// Rendering ahead of the run (batched observation) never turns a variable an earlier task sets into an error.
    func testVariablesEarlierTasksSetAreNotUndefinedAheadOfTheRun() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("play.yml", """
            - hosts: localhost
              gather_facts: false
              tasks:
                - set_fact: a=1 b=two
                - set_fact: {c: three}
                - command: echo four
                  register: d
                - block:
                    - command: /bin/false
                  rescue:
                    - copy: {dest: "{{ playbook_dir }}/rescued", content: "{{ ansible_failed_result.rc }}"}
                - copy: {dest: "{{ playbook_dir }}/{{ b }}", content: "{{ a }}{{ c }}{{ d.stdout }}"}
            """)
        let run = try scratch.provision(["apply", "play.yml"])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertEqual(scratch.read("two"), "1threefour")
        XCTAssertEqual(scratch.read("rescued"), "1")
    }
}
