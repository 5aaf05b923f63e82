import XCTest

/// Issue 10 #2 and #3 against ansible-playbook: a host's output, a lookup's result and `!unsafe`
/// values stay literal text through every path (as Ansible 2.19's trust rules keep them), and
/// `no_log` tasks show nothing of their secrets. On main at 0e43e5c the injection play read the
/// controller's file and rendered the host's `{% %}` (trees differ, forbidden text shown), and the
/// no_log play printed the loop item and the debug value under -v.
final class DifferentialHardeningTests: XCTestCase {
    /// What the "host" prints: template syntax of every kind, and words that look like arguments.
    static let hostOutput = """
        {{ lookup('file', 'controller-secret.txt') }}
        {% if true %}{{ 'RENDER' ~ 'ED' }}{% endif %}
        {# a comment #}{{ 'INJ' ~ 'ECTED' }}
        x chdir=/ creates=/etc/passwd
        1 == 1
        {{ lookup('env', 'PROVISION_CANARY') }}

        """

    /// Text that appears only when something above was rendered or looked up on the controller.
    static let forbidden = ["CONTROLLER-SECRET-MARK", "RENDERED", "INJECTED"]

    static let files = [
        "host-output.txt": hostOutput,
        "controller-secret.txt": "CONTROLLER-SECRET-MARK\n",
        "templates/host.j2": "{{ r.stdout }}\n{{ copied }}\n{% for l in r.stdout_lines %}[{{ l }}]\n{% endfor %}",
        "templates/vars.j2": "[{{ extra }}]",
        "included.yml": "- copy: {dest: \"{{ root }}/included-{{ index }}\", content: \"{{ item }}\\n\"}\n",
    ]

    /// Every path of #2: registered output, set_fact (plain, concatenated, filtered, structured),
    /// a file lookup through set_fact, lazily rendered play variables, `!unsafe` values (scalar, list,
    /// nested), loop items (loop, with_items, include loops, ansible_loop), template, lookup('template')
    /// with template_vars, lineinfile, k=v arguments and a condition made from host output.
    /// `{{ root }}` is the output folder; the host output is `{{ playbook_dir }}/host-output.txt`.
    static let injectionPlay = """
        - hosts: all
          gather_facts: false
          vars:
            lazy: "{{ r.stdout }}"
            joined: "trusted {{ 1 + 1 }} {{ r.stdout_lines[0] }}"
            marked: !unsafe "{{ 'INJ' ~ 'ECTED' }}"
            marked_list: !unsafe ["{{ 'INJ' ~ 'ECTED' }}", {k: "{% if true %}{{ 'RENDER' ~ 'ED' }}{% endif %}"}]
            nested: {keep: !unsafe "{{ 'INJ' ~ 'ECTED' }}", render: "{{ 6 * 7 }}"}
            trusted_condition: "1 == 1"
          tasks:
            - command: cat {{ playbook_dir }}/host-output.txt
              register: r
              changed_when: false
            - copy: {dest: "{{ root }}/registered", content: "{{ r.stdout }}\\n"}
            - set_fact:
                copied: "{{ r.stdout }}"
                concatenated: "{{ 'a' }}{{ r.stdout_lines[0] }}"
                filtered: "{{ r.stdout | trim | regex_replace('^', '>') }}"
                structured: "{{ {'k': r.stdout_lines[1], 'l': r.stdout_lines} }}"
                from_file: "{{ lookup('file', 'host-output.txt') }}"
            - copy: {dest: "{{ root }}/set_fact", content: "{{ copied }}\\n"}
            - copy: {dest: "{{ root }}/concatenated", content: "{{ concatenated }}\\n"}
            - copy: {dest: "{{ root }}/filtered", content: "{{ filtered }}\\n"}
            - copy: {dest: "{{ root }}/structured", content: "{{ structured.k }}|{{ structured.l | join('|') }}\\n"}
            - copy: {dest: "{{ root }}/lookup", content: "{{ from_file }}\\n"}
            - copy: {dest: "{{ root }}/lazy", content: "{{ lazy }}\\n{{ joined }}\\n"}
            - copy:
                dest: "{{ root }}/unsafe"
                content: "{{ marked }}\\n{{ marked_list[0] }}\\n{{ marked_list[1].k }}\\n{{ nested.keep }} {{ nested.render }}\\n"
            - copy: {dest: "{{ root }}/loop-{{ index }}", content: "{{ item }}\\n"}
              loop: "{{ r.stdout_lines }}"
              loop_control: {index_var: index}
            - copy: {dest: "{{ root }}/with_items-{{ i }}", content: "{{ item }}|{{ ansible_loop.allitems[0] }}\\n"}
              with_items: "{{ r.stdout_lines[:2] }}"
              loop_control: {extended: true, index_var: i}
            - include_tasks: included.yml
              loop: "{{ r.stdout_lines[:2] }}"
              loop_control: {index_var: index}
            - template: {src: host.j2, dest: "{{ root }}/template"}
            - copy: {dest: "{{ root }}/template_lookup", content: "{{ lookup('template', 'vars.j2', template_vars={'extra': r.stdout_lines[2]}) }}\\n"}
            - lineinfile: {path: "{{ root }}/lineinfile", line: "{{ item }}", create: true}
              loop: "{{ r.stdout_lines }}"
            - command: echo {{ r.stdout_lines[3] }}
              register: kv
              changed_when: false
            - copy: {dest: "{{ root }}/kv", content: "{{ kv.stdout }}\\n"}
            - name: a condition made from host output is not evaluated
              copy: {dest: "{{ root }}/untrusted-condition", content: "evaluated\\n"}
              when: "{{ r.stdout_lines[4] }}"
              ignore_errors: true
            - name: a trusted variable still is
              copy: {dest: "{{ root }}/trusted-condition", content: "evaluated\\n"}
              when: "{{ trusted_condition }}"
        """

    func testHostOutputLookupsAndUnsafeValuesStayLiteralAsInAnsible() throws {
        try AnsibleDifferential.assertAllAgree([
            DifferentialPlay("host output, lookups and !unsafe through every path", play: Self.injectionPlay,
                             files: Self.files, forbiddenInBoth: Self.forbidden),
        ])
    }

    static let secret = "S3CRET-7f1c"

    /// no_log on every kind of task, in loops, failing and forgiven: what Ansible also keeps secret.
    /// (Its error lines print a `fail` message and an owner taken from a variable, which we do not:
    /// EngineNoLogTests covers those.)
    static let noLogPlay = """
        - hosts: all
          gather_facts: false
          vars:
            pw: \(DifferentialHardeningTests.secret)
          tasks:
            - debug: {msg: "{{ pw }}"}
              no_log: true
            - debug: {var: pw}
              no_log: true
            - copy: {dest: "{{ root }}/secret", content: "{{ pw }}\\n"}
              no_log: true
            - copy: {dest: "{{ root }}/item-{{ item.n }}", content: "{{ item.pw }}\\n"}
              loop: [{n: 1, pw: "{{ pw }}"}, {n: 2, pw: "{{ pw }}"}]
              no_log: true
            - command: echo {{ pw }}
              register: echoed
              changed_when: false
              no_log: true
            - command: "false {{ pw }}"
              changed_when: false
              no_log: true
              ignore_errors: true
            - command: "sh -c 'echo {{ item }} >&2; exit 3'"
              loop: ["{{ pw }}"]
              changed_when: false
              no_log: true
              ignore_errors: true
            - block:
                - copy: {dest: "{{ root }}/block", content: "{{ pw }}\\n"}
              no_log: true
        - hosts: all
          gather_facts: false
          no_log: true
          tasks:
            - copy: {dest: "{{ root }}/play-level", content: "\(DifferentialHardeningTests.secret)\\n"}
        """

    func testNoLogHidesEverythingInEveryModeAsInAnsible() throws {
        let modes: [[String]] = [["-vvv", "--diff"], ["--check", "--diff", "-v"]]
        try AnsibleDifferential.assertAllAgree(modes.map { arguments in
            DifferentialPlay("no_log \(arguments.joined(separator: " "))", play: Self.noLogPlay, arguments: arguments,
                             expectedInBoth: ["censored due to no_log"], forbiddenInBoth: [Self.secret])
        })
    }
}
