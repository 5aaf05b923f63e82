import XCTest

/// Roles, includes, with_X loops, inventory changes, setup, pause, async, reboot, vars_files
/// lists and templates (macro, comment, lookup('template')): each play run by ansible-playbook
/// and provision, exit status, recap and files compared.
final class DifferentialEngineBuiltinsTests: XCTestCase {
    /// A role tree used by the role plays: `web` (defaults, vars, alternative files, handlers,
    /// a dependency on `common` with a parameter), `common`, `dup` (allow_duplicates).
    static let roles: [String: String] = [
        "roles/web/tasks/main.yml": """
        - copy: {dest: "{{ root }}/web-main-{{ p | default('none') }}", content: "port={{ port }} color={{ color }}\\n"}
          notify: web restart
        """,
        "roles/web/tasks/other.yml": """
        - copy: {dest: "{{ root }}/web-other-{{ port }}", content: "color={{ color }}\\n"}
        """,
        "roles/web/defaults/main.yml": "port: 80\n",
        "roles/web/defaults/alt.yml": "port: 8080\n",
        "roles/web/vars/main.yml": "color: red\n",
        "roles/web/vars/alt.yml": "color: blue\n",
        "roles/web/handlers/main.yml": "- name: web restart\n  copy: {dest: \"{{ root }}/handler-main\", content: \"ran\\n\"}\n",
        "roles/web/handlers/alt.yml": "- name: web restart\n  copy: {dest: \"{{ root }}/handler-alt\", content: \"ran\\n\"}\n",
        "roles/web/meta/main.yml": "dependencies:\n  - role: common\n    who: web\n",
        "roles/common/tasks/main.yml": """
        - lineinfile: {path: "{{ root }}/common-runs", line: "for {{ who | default('nobody') }} {{ item | default('') }}", create: true}
        """,
        "roles/dup/tasks/main.yml": """
        - lineinfile: {path: "{{ root }}/dup-runs", line: "run {{ n }}", create: true}
        """,
        "roles/dup/meta/main.yml": "allow_duplicates: true\n",
    ]

    func testRolesAgree() throws {
        try AnsibleDifferential.assertAllAgree([
            DifferentialPlay("roles: parameters, once per parameters, allow_duplicates, dependencies first", play: """
            - hosts: all
              gather_facts: false
              roles:
                - web
                - web
                - {role: web, p: 1}
                - {role: dup, n: 1}
                - {role: dup, n: 1}
                - common
                - {role: common, who: x}
              tasks:
                - copy: {dest: "{{ root }}/after-roles", content: "{{ port }} {{ color }}\\n"}
            """, files: Self.roles),
            DifferentialPlay("include_role: *_from, public, handlers_from, loop, vars", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - copy: {dest: "{{ root }}/before", content: "{{ port | default('undef') }}\\n"}
                - include_role: {name: web, tasks_from: other, defaults_from: alt, vars_from: alt}
                - copy: {dest: "{{ root }}/private", content: "{{ port | default('undef') }} {{ color | default('undef') }}\\n"}
                - include_role: {name: web, public: true}
                  vars: {p: 5}
                - copy: {dest: "{{ root }}/public", content: "{{ port | default('undef') }} {{ color | default('undef') }}\\n"}
                - include_role: {name: web, handlers_from: alt}
                - include_role: {name: common}
                  loop: [a, b]
                  vars: {who: "{{ item }}"}
                - include_role: {name: dup}
                  when: false
            """, files: Self.roles),
            DifferentialPlay("import_role: static, vars public at once, keywords inherited", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - copy: {dest: "{{ root }}/before", content: "{{ port }} {{ color }}\\n"}
                - import_role: {name: web, tasks_from: other}
                - import_role: {name: web, tasks_from: other}
                - import_role: {name: dup}
                  vars: {n: skipped}
                  when: false
                - import_role: {name: dup}
                  vars: {n: 2}
            """, files: Self.roles),
            DifferentialPlay("include_role apply: keywords reach the role's tasks, the include's own do not", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - include_role:
                    name: failing
                    apply: {ignore_errors: true, tags: [t1]}
                  tags: [t1]
                - include_role: {name: failing}
                  ignore_errors: true
            """, files: [
                "roles/failing/tasks/main.yml": "- copy: {dest: \"{{ root }}/ran\", content: \"x\\n\"}\n- fail: {msg: boom}\n",
            ]),
            DifferentialPlay("include_role with --tags: untagged role tasks are not selected", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - include_role: {name: web}
                  tags: [t1]
                - copy: {dest: "{{ root }}/tagged", content: "x\\n"}
                  tags: [t1]
            """, files: Self.roles, arguments: ["--tags", "t1"]),
            DifferentialPlay("role dependencies through a role that is included at run time", play: """
            - hosts: all
              gather_facts: false
              roles: [common]
              tasks:
                - include_role: {name: web}
                - include_role: {name: web}
            """, files: Self.roles),
        ])
    }

    func testIncludesAgree() throws {
        try AnsibleDifferential.assertAllAgree([
            DifferentialPlay("include_tasks: when, loops, an empty loop, with_first_found", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - include_tasks: small.yml
                - include_tasks: small.yml
                  when: false
                - include_tasks: small.yml
                  loop: [1, 2]
                - include_tasks: small.yml
                  loop: []
                - include_tasks: "{{ item }}"
                  with_first_found: [missing.yml, small.yml]
            """, files: ["small.yml": "- lineinfile: {path: \"{{ root }}/runs\", line: \"item {{ item | default('-') }}\", create: true}\n"]),
            DifferentialPlay("include_tasks that includes itself until a condition ends it", play: """
            - hosts: all
              gather_facts: false
              vars: {n: 0}
              tasks:
                - include_tasks: again.yml
            """, files: ["again.yml": """
            - set_fact: {n: "{{ n | int + 1 }}"}
            - lineinfile: {path: "{{ root }}/depth", line: "{{ n }}", create: true}
            - include_tasks: again.yml
              when: n | int < 12
            """]),
            DifferentialPlay("include_tasks apply", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - include_tasks:
                    file: fails.yml
                    apply: {ignore_errors: true}
                - copy: {dest: "{{ root }}/end", content: "x\\n"}
            """, files: ["fails.yml": "- fail: {msg: boom}\n- copy: {dest: \"{{ root }}/after\", content: \"x\\n\"}\n"]),
        ])
    }

    func testLoopsAgree() throws {
        let files = ["files/a.txt": "a\n", "files/b.txt": "b\n", "files/c.conf": "c\n", "templates/t.j2": "t\n"]
        try AnsibleDifferential.assertAllAgree([
            DifferentialPlay("with_items over a bare word, with_list, with_items flattening", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - lineinfile: {path: "{{ root }}/items", line: "{{ item }}", create: true}
                  with_items: a_bare_word
                - lineinfile: {path: "{{ root }}/items", line: "{{ item }}", create: true}
                  with_items: [[1, 2], 3, "{{ more }}"]
                  vars: {more: [4, 5]}
                - lineinfile: {path: "{{ root }}/list", line: "{{ item | string }}", create: true}
                  with_list: [[1, 2], 3]
            """),
            DifferentialPlay("with_nested, with_together, with_indexed_items, with_dict, with_subelements", play: """
            - hosts: all
              gather_facts: false
              vars:
                users:
                  - {name: alice, keys: [k1, k2], extra: {hosts: [h1]}}
                  - {name: bob, keys: [k3], extra: {hosts: []}}
                d: {x: 1, y: 2}
              tasks:
                - lineinfile: {path: "{{ root }}/nested", line: "{{ item | string }}", create: true}
                  with_nested: [[a, b], [1, 2], [z]]
                - lineinfile: {path: "{{ root }}/together", line: "{{ item | string }}", create: true}
                  with_together: [[a, b, c], [1, 2]]
                - lineinfile: {path: "{{ root }}/indexed", line: "{{ item.0 }}={{ item.1 }}", create: true}
                  with_indexed_items: [p, q]
                - lineinfile: {path: "{{ root }}/dict", line: "{{ item.key }}={{ item.value }}", create: true}
                  with_dict: "{{ d }}"
                - lineinfile: {path: "{{ root }}/sub", line: "{{ item.0 | string }} {{ item.1 }}", create: true}
                  with_subelements: ["{{ users }}", keys]
                - lineinfile: {path: "{{ root }}/subnested", line: "{{ item.0.name }} {{ item.1 }}", create: true}
                  with_subelements: ["{{ users }}", extra.hosts]
                - lineinfile: {path: "{{ root }}/skipmissing", line: "{{ item.1 }}", create: true}
                  with_subelements: ["{{ users + [{'name': 'carol'}] }}", keys, {skip_missing: true}]
            """),
            DifferentialPlay("with_sequence: key=value, shortcut, count, format, backwards", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - lineinfile: {path: "{{ root }}/seq", line: "{{ item }}", create: true}
                  with_sequence: start=1 end=9 stride=4 format=n%02d
                - lineinfile: {path: "{{ root }}/seq", line: "{{ item }}", create: true}
                  with_sequence: 4-8/2:x%d
                - lineinfile: {path: "{{ root }}/seq", line: "c{{ item }}", create: true}
                  with_sequence: count=3
                - lineinfile: {path: "{{ root }}/seq", line: "h{{ item }}", create: true}
                  with_sequence: start=10 end=12 format=%x
                - lineinfile: {path: "{{ root }}/seq", line: "down{{ item }}", create: true}
                  with_sequence: start=3 end=1 stride=-1
                - lineinfile: {path: "{{ root }}/seq", line: "bad", create: true}
                  with_sequence: start=5 end=1
                  ignore_errors: true
            """),
            DifferentialPlay("with_fileglob, with_first_found (names, files/paths, skip), with_random_choice", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - lineinfile: {path: "{{ root }}/glob", line: "{{ item | basename }}", create: true}
                  with_fileglob: ["files/*.txt"]
                - lineinfile: {path: "{{ root }}/glob", line: "none {{ item }}", create: true}
                  with_fileglob: ["files/*.none"]
                - lineinfile: {path: "{{ root }}/found", line: "{{ item | basename }}", create: true}
                  with_first_found: [missing.txt, b.txt, a.txt]
                - lineinfile: {path: "{{ root }}/found", line: "paths {{ item | basename }}", create: true}
                  with_first_found:
                    - files: [nope, c.conf]
                      paths: [files]
                - template: {src: "{{ item }}", dest: "{{ root }}/from-template"}
                  with_first_found: [missing.j2, t.j2]
                - lineinfile: {path: "{{ root }}/found", line: "skip", create: true}
                  with_first_found:
                    - files: [nope]
                      skip: true
                - lineinfile: {path: "{{ root }}/found", line: "error", create: true}
                  with_first_found: [nope1, nope2]
                  ignore_errors: true
                - lineinfile: {path: "{{ root }}/random", line: "{{ item }}", create: true}
                  with_random_choice: [only]
            """, files: files),
            DifferentialPlay("loop_control: extended (with and without allitems), label, index_var, pause", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - lineinfile:
                    path: "{{ root }}/extended"
                    line: "{{ item }} {{ ansible_loop.index }}/{{ ansible_loop.length }} {{ ansible_loop.first }} {{ ansible_loop.last }} {{ ansible_loop.previtem | default('-') }} {{ ansible_loop.nextitem | default('-') }} {{ ansible_loop.revindex0 }} {{ ansible_loop.allitems | string }} i={{ i }}"
                    create: true
                  loop: [a, b, c]
                  loop_control: {extended: true, label: "L{{ item }}", index_var: i, pause: 0.1}
                - lineinfile: {path: "{{ root }}/noall", line: "{{ ansible_loop.allitems | default('none') | string }}", create: true}
                  loop: [a]
                  loop_control: {extended: true, extended_allitems: false}
            """),
            DifferentialPlay("loop over a string fails, an empty loop is skipped, a dict lookup of a list fails", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - copy: {dest: "{{ root }}/x", content: "x"}
                  loop: a_bare_word
                  ignore_errors: true
                - copy: {dest: "{{ root }}/y", content: "y"}
                  loop: []
                - copy: {dest: "{{ root }}/z", content: "z"}
                  with_dict: [1, 2]
                  ignore_errors: true
            """),
        ])
    }

    func testInventoryChangesAgree() throws {
        try AnsibleDifferential.assertAllAgree([
            DifferentialPlay("add_host and group_by: later plays see the hosts and groups", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - add_host:
                    name: "new{{ item }}"
                    groups: [added, "g{{ item }}"]
                    ansible_connection: local
                    color: "c{{ item }}"
                  loop: [1, 2]
                - add_host: {name: solo, group: added, ansible_connection: local}
                - group_by: {key: "os_{{ inventory_hostname }}", parents: [byhost]}
                - copy: {dest: "{{ root }}/groups-{{ inventory_hostname }}", content: "{{ groups['added'] | default([]) }}\\n"}
            - hosts: added
              gather_facts: false
              tasks:
                - copy: {dest: "{{ root }}/{{ inventory_hostname }}", content: "{{ color | default('none') }} {{ group_names }}\\n"}
            - hosts: byhost
              gather_facts: false
              tasks:
                - copy: {dest: "{{ root }}/by-{{ inventory_hostname }}", content: "{{ group_names }} {{ groups['byhost'] | sort }}\\n"}
            """, inventory: "h1 ansible_connection=local\nh2 ansible_connection=local\n"),
        ])
    }

    func testSetupPauseAsyncRebootAgree() throws {
        try AnsibleDifferential.assertAllAgree([
            DifferentialPlay("setup as a task: gather_subset and filter", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - setup:
                    gather_subset: ["!all"]
                    filter: [ansible_distribution, ansible_os_family, ansible_processor_nproc, ansible_system]
                  register: s
                - copy:
                    dest: "{{ root }}/{{ inventory_hostname }}"
                    content: "{{ ansible_distribution }} {{ ansible_os_family }} {{ ansible_system }} {{ ansible_processor_nproc | default('none') }} {{ s.ansible_facts.keys() | sort }}\\n"
                - setup: {gather_subset: hardware, filter: ansible_processor_nproc}
                - copy: {dest: "{{ root }}/{{ inventory_hostname }}.nproc", content: "{{ 'yes' if ansible_processor_nproc > 0 else 'no' }}\\n"}
                - setup: {gather_subset: [bogus]}
                  ignore_errors: true
            """, inventory: "a ansible_connection=local\nb ansible_connection=local\n"),
            DifferentialPlay("pause: seconds, a prompt without a terminal; registered on the batch's first host only", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - pause: {seconds: 1}
                  register: p1
                - pause: {prompt: "Continue?"}
                  register: p2
                - copy: {dest: "{{ root }}/{{ inventory_hostname }}", content: "{{ p1.user_input }}|{{ p2.user_input }}|{{ p1.delta }}\\n"}
            """, inventory: "a ansible_connection=local\nb ansible_connection=local\n",
            expectedInBoth: ["Not waiting for response to prompt as stdin is not interactive"]),
            DifferentialPlay("async: poll > 0, a timeout, poll 0 with async_status and cleanup", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - command: sleep 1
                  async: 10
                  poll: 1
                  register: a1
                # Which of its two timeouts Ansible reports (the host's wrapper or the controller's poll) is a
                # race there; only what both say is compared. Margins keep load from changing the outcome.
                - shell: "sleep 30; echo late"
                  async: 2
                  poll: 1
                  register: a2
                  ignore_errors: true
                - shell: "sleep 1; echo bg"
                  async: 30
                  poll: 0
                  register: a3
                - async_status: {jid: "{{ a3.ansible_job_id }}"}
                  register: s0
                - pause: {seconds: 6}
                - async_status: {jid: "{{ a3.ansible_job_id }}"}
                  register: s1
                - async_status: {jid: "{{ a3.ansible_job_id }}", mode: cleanup}
                  register: s2
                - async_status: {jid: "{{ a3.ansible_job_id }}"}
                  ignore_errors: true
                - copy:
                    dest: "{{ root }}/results"
                    content: |
                      a1 {{ a1.finished }} {{ a1.rc }} {{ a1.changed }}
                      a2 {{ a2.failed }} {{ a2.changed }} {{ a2.msg is defined }}
                      a3 {{ a3.started }} {{ a3.finished }} {{ a3.changed }}
                      s0 {{ s0.finished }} {{ s0.stdout }}
                      s1 {{ s1.finished }} {{ s1.rc }} {{ s1.stdout }} {{ s1.changed }}
                      s2 {{ s2.erased is defined }}
            """),
            DifferentialPlay("reboot on the local connection is refused", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - reboot:
                - copy: {dest: "{{ root }}/after", content: "x"}
            """, expectedInBoth: ["Running reboot with local connection would reboot the control node."]),
        ])
    }

    func testVarsFilesAndTemplatesAgree() throws {
        try AnsibleDifferential.assertAllAgree([
            DifferentialPlay("vars_files: a list entry reads the first file found (vars/ first); a list of none is skipped", play: """
            - hosts: all
              gather_facts: false
              vars: {which: b}
              vars_files:
                - [missing.yml, "{{ which }}.yml", c.yml]
                - [missing1.yml, missing2.yml]
                - z.yml
              tasks:
                - copy: {dest: "{{ root }}/out", content: "{{ a }} {{ z }}\\n"}
            """, files: ["b.yml": "a: from_b\n", "c.yml": "a: from_c\n", "vars/z.yml": "z: inside_vars\n", "z.yml": "z: top\n"]),
            DifferentialPlay("{% macro %}, {% call %}, the comment filter, lookup('template')", play: """
            - hosts: all
              gather_facts: false
              vars: {greeting: hello}
              tasks:
                - template: {src: m.j2, dest: "{{ root }}/m.txt"}
                - copy:
                    dest: "{{ root }}/l.txt"
                    content: "{{ lookup('template', 'l.j2') }}|{{ lookup('template', 'l.j2', template_vars={'extra': 'E'}) }}"
            """, files: [
                "templates/m.j2": """
                {% macro field(name, value='none', sep=': ') -%}
                {{ name }}{{ sep }}{{ value }}
                {%- endmacro %}
                {% macro box(title) -%}
                [{{ title }}]
                {{ caller() }}
                [/{{ title }}]
                {%- endmacro %}
                {{ field('a', 1) }}
                {{ field('b') }}
                {{ field(name='c', sep='=', value=greeting) }}
                {% call box('x') %}inside {{ greeting }}{% endcall %}
                {% for i in [1, 2] %}{{ field('i', i) }};{% endfor %}

                {{ "one\\ntwo" | comment }}
                {{ "one\\ntwo" | comment('c') }}
                {{ "one\\n\\ntwo" | comment('cblock') }}
                {{ "x" | comment('xml') }}
                {{ "x" | comment('erlang', prefix_count=2, postfix_count=0) }}
                {{ "x" | comment(decoration='; ', beginning='BEGIN', end='END') }}
                {{ "x\\ny" | comment('plain', prefix='', postfix='') }}

                """,
                "templates/l.j2": "lookup says {{ greeting }} {{ extra | default('-') }}\n",
            ]),
        ])
    }

    /// Errors found before any host is touched: both programs stop with exit 1 and say what is wrong.
    /// debug: what it registers (the value itself, typed) and the line it prints (JSON, indent 4, keys sorted).
    func testDebugAgrees() throws {
        try AnsibleDifferential.assertAllAgree([
            DifferentialPlay("debug: var and msg, registered and printed", play: """
            - hosts: all
              gather_facts: false
              vars: {x: {b: [1, "two", true, null], a: 2.5}, s: hi}
              tasks:
                - debug: {var: x}
                  register: v
                - debug: {msg: "{{ x }}"}
                  register: m
                - debug: {msg: "{{ 1 + 1 }}"}
                  register: n
                - debug: {var: s}
                - copy:
                    dest: "{{ root }}/registered"
                    content: "{{ v.x.b[1] }} {{ m.msg.a }} {{ n.msg + 1 }} {{ v.changed }} {{ 'msg' in v }}\\n"
            """, expectedInBoth: ["ok: [localhost] => {\n    \"x\": {\n        \"a\": 2.5,\n        \"b\": [\n            1,\n            \"two\",\n            true,\n            null\n        ]\n    }\n}",
                                  "ok: [localhost] => {\n    \"s\": \"hi\"\n}", "ok: [localhost] => {\n    \"msg\": 2\n}"]),
        ])
    }

    func testLoadErrorsAgree() throws {
        let cases: [(DifferentialPlay, [String])] = [
            (DifferentialPlay("role dependency loop a -> b -> a", play: "- hosts: all\n  gather_facts: false\n  roles: [a]\n", files: [
                "roles/a/tasks/main.yml": "- debug: {msg: a}\n", "roles/a/meta/main.yml": "dependencies: [b]\n",
                "roles/b/tasks/main.yml": "- debug: {msg: b}\n", "roles/b/meta/main.yml": "dependencies: [a]\n",
            ]), ["role dependency loop", "roles/a/meta/main.yml:1:16", "roles/b/meta/main.yml:1:16"]),
            (DifferentialPlay("role depending on itself", play: "- hosts: all\n  gather_facts: false\n  roles: [c]\n", files: [
                "roles/c/tasks/main.yml": "- debug: {msg: c}\n", "roles/c/meta/main.yml": "dependencies:\n  - c\n",
            ]), ["role dependency loop", "'c' depends on itself", "roles/c/meta/main.yml:2:5"]),
            (DifferentialPlay("play vars as a list of mappings", play: """
            - hosts: all
              gather_facts: false
              vars:
                - x: 1
              tasks:
                - debug: {msg: hi}
            """), ["'vars' must be a mapping"]),
            (DifferentialPlay("a keyword include_tasks does not take", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - include_tasks: t.yml
                  check_mode: true
            """, files: ["t.yml": "- debug: {msg: hi}\n"]), ["'check_mode' is not a keyword of includes"]),
        ]
        for (play, words) in cases {
            let (ansible, ours) = try AnsibleDifferential.run(play)
            // Ansible finds some of these only when a host reaches them (exit 4); provision before the run.
            XCTAssertNotEqual(ansible.status, 0, "[\(play.name)] ansible-playbook:\n\(ansible.output)")
            XCTAssertEqual(ours.status, 1, "[\(play.name)] provision:\n\(ours.output)")
            for word in words { XCTAssertTrue(ours.output.contains(word), "[\(play.name)] '\(word)' not in:\n\(ours.output)") }
        }
    }
}
