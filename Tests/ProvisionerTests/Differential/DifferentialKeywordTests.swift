import XCTest

/// Issue 9 §1: the task and play keywords provision accepts, run through ansible-playbook 2.19 and
/// provision side by side (exit status, recap, files). Hosts are local; several names make several
/// hosts. What each keyword did is written under `{{ root }}` so the trees show it.
final class DifferentialKeywordTests: XCTestCase {
    static let threeHosts = "a ansible_connection=local\nb ansible_connection=local\nc ansible_connection=local\n"
    static let fourHosts = threeHosts + "d ansible_connection=local\n"

    /// Every play of this file, by the keyword it shows (KeywordCoverageTests checks each keyword has one).
    static let plays: [String: [DifferentialPlay]] = [
        "environment": environment,
        "delegate_to": delegation,
        "run_once": runOnce,
        "until": retries,
        "play keywords": playKeywords,
        "meta": meta,
        "k=v": keyValue,
        "rescue": rescue,
        "task keywords": taskKeywords,
    ]

    static var count: Int { plays.values.reduce(0) { $0 + $1.count } }

    func testEnvironment() throws { try AnsibleDifferential.assertAllAgree(Self.environment) }
    func testDelegation() throws { try AnsibleDifferential.assertAllAgree(Self.delegation) }
    func testRunOnce() throws { try AnsibleDifferential.assertAllAgree(Self.runOnce) }
    func testRetries() throws { try AnsibleDifferential.assertAllAgree(Self.retries) }
    func testPlayKeywords() throws { try AnsibleDifferential.assertAllAgree(Self.playKeywords) }
    func testMeta() throws { try AnsibleDifferential.assertAllAgree(Self.meta) }
    func testKeyValueArguments() throws { try AnsibleDifferential.assertAllAgree(Self.keyValue) }
    func testRescue() throws { try AnsibleDifferential.assertAllAgree(Self.rescue) }
    func testTaskKeywords() throws { try AnsibleDifferential.assertAllAgree(Self.taskKeywords) }

    static let environment = [
        DifferentialPlay("environment: play, block and task, inner names win, lists merged", play: """
        - hosts: all
          gather_facts: false
          environment: {PLAYV: p, BOTH: play}
          tasks:
            - block:
                - shell: echo "$PLAYV $BOTH $BLOCKV $TV $NUM $NONE $LISTED" > {{ root }}/env
                  environment: [{BOTH: task, TV: t, NUM: 1, NONE: null}, {LISTED: second, TV: t2}]
              environment: {BLOCKV: blk, BOTH: block}
        """),
        DifferentialPlay("environment from a template, for command without a shell", play: """
        - hosts: all
          gather_facts: false
          vars:
            proxy_env: {MY_PROXY: "http://proxy.example:3128", QUOTED: "it's \\"odd\\" $HOME"}
          tasks:
            - command: printenv MY_PROXY QUOTED
              environment: "{{ proxy_env }}"
              register: printed
            - copy: {dest: "{{ root }}/printed", content: "{{ printed.stdout }}\\n"}
        """),
    ]

    static let delegation = [
        DifferentialPlay("delegate_to another host and localhost: the delegating host's variables", play: """
        - hosts: a,b
          gather_facts: false
          tasks:
            - shell: echo "{{ inventory_hostname }} $X" > {{ root }}/from-{{ inventory_hostname }}
              delegate_to: c
              environment: {X: "{{ myvar }}"}
              vars: {myvar: "v-{{ inventory_hostname }}"}
              register: r
            - copy: {dest: "{{ root }}/local-{{ inventory_hostname }}", content: "{{ r.cmd | replace(root, 'ROOT') }}"}
              delegate_to: localhost
        """, inventory: threeHosts),
        DifferentialPlay("local_action as text and as a mapping", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - local_action: command echo hi {{ inventory_hostname }}
              register: l
            - local_action:
                module: copy
                dest: "{{ root }}/la-{{ inventory_hostname }}"
                content: "{{ l.stdout }}"
        """, inventory: threeHosts),
    ]

    static let runOnce = [
        DifferentialPlay("run_once: the first host runs it, every host gets the register and facts", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - shell: echo {{ inventory_hostname }} >> {{ root }}/ran
              run_once: true
              register: r
            - copy: {dest: "{{ root }}/got-{{ inventory_hostname }}", content: "{{ r.cmd | replace(root, 'ROOT') }}"}
            - set_fact: {first: "{{ inventory_hostname }}"}
              run_once: true
            - copy: {dest: "{{ root }}/fact-{{ inventory_hostname }}", content: "{{ first }}"}
            - copy: {dest: "{{ root }}/skipped", content: x}
              run_once: true
              when: inventory_hostname == 'b'
        """, inventory: threeHosts),
        DifferentialPlay("run_once that fails stops every host; a forgiven one does not", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - command: /bin/false
              run_once: true
              ignore_errors: true
            - copy: {dest: "{{ root }}/after-ignored-{{ inventory_hostname }}", content: x}
            - command: /bin/false
              run_once: true
            - copy: {dest: "{{ root }}/never-{{ inventory_hostname }}", content: x}
        """, inventory: threeHosts),
        DifferentialPlay("run_once in a block the first host skips: the next host runs it", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - block:
                - shell: echo {{ inventory_hostname }} >> {{ root }}/ran
                  run_once: true
                  register: r
              when: inventory_hostname != 'a'
            - copy: {dest: "{{ root }}/got-{{ inventory_hostname }}", content: "{{ r.cmd | default('none') | replace(root, 'ROOT') }}"}
        """, inventory: threeHosts),
        DifferentialPlay("run_once per serial batch and with a loop", play: """
        - hosts: all
          gather_facts: false
          serial: 2
          tasks:
            - shell: echo {{ inventory_hostname }}-{{ item }} >> {{ root }}/batches
              run_once: true
              loop: [1, 2]
        """, inventory: fourHosts),
    ]

    static let retries = [
        DifferentialPlay("until with retries and delay: attempts counted, success on the third", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - shell: echo x >> {{ root }}/tries-{{ inventory_hostname }}; wc -l < {{ root }}/tries-{{ inventory_hostname }}
              register: r
              until: r.stdout | int >= 3
              retries: 5
              delay: 0
            - copy: {dest: "{{ root }}/attempts-{{ inventory_hostname }}", content: "{{ r.attempts }}"}
        """, inventory: threeHosts, expectedInBoth: ["FAILED - RETRYING: [a]: shell (5 retries left)."]),
        DifferentialPlay("out of retries the task fails; retries without until retries failures", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - shell: echo x >> {{ root }}/fails
              register: f
              failed_when: true
              retries: 2
              delay: 0
              ignore_errors: true
            - copy: {dest: "{{ root }}/f-attempts", content: "{{ f.attempts }}"}
            - command: /bin/true
              until: false
              retries: 0
              delay: 0
              register: once
            - copy: {dest: "{{ root }}/once", content: "{{ once.attempts | default('none') }}"}
            - command: /bin/true
              register: g
              until: g.rc == 1
              retries: 1
              delay: 0
        """),
    ]

    static let playKeywords = [
        DifferentialPlay("connection: local reaches hosts the inventory gives no connection", play: """
        - hosts: all
          gather_facts: false
          connection: local
          tasks:
            - copy: {dest: "{{ root }}/{{ inventory_hostname }}", content: x}
        """, inventory: "far1 ansible_host=192.0.2.1\nfar2 ansible_host=192.0.2.2\n"),
        DifferentialPlay("any_errors_fatal: one failure stops every host and the playbook", play: """
        - hosts: all
          gather_facts: false
          any_errors_fatal: true
          tasks:
            - command: /bin/false
              when: inventory_hostname == 'b'
            - copy: {dest: "{{ root }}/after-{{ inventory_hostname }}", content: x}
        - hosts: all
          gather_facts: false
          tasks:
            - copy: {dest: "{{ root }}/second-{{ inventory_hostname }}", content: x}
        """, inventory: threeHosts),
        DifferentialPlay("max_fail_percentage stops the batch right after the task", play: """
        - hosts: all
          gather_facts: false
          max_fail_percentage: 25
          tasks:
            - command: /bin/false
              when: inventory_hostname in ['a', 'b']
            - copy: {dest: "{{ root }}/after-{{ inventory_hostname }}", content: x}
        """, inventory: fourHosts),
        DifferentialPlay("ignore_unreachable forgives the first task that finds a host unreachable", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - command: /bin/true
              ignore_unreachable: true
            - copy: {dest: "{{ root }}/still-{{ inventory_hostname }}", content: x}
              delegate_to: localhost
            - command: /bin/true
            - copy: {dest: "{{ root }}/after-{{ inventory_hostname }}", content: x}
              delegate_to: localhost
        """, inventory: "a ansible_connection=local\nu ansible_host=127.0.0.1 ansible_port=1 ansible_user=root ansible_ssh_args=''\n"),
        DifferentialPlay("failed hosts leave later plays out", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - command: /bin/false
              when: inventory_hostname == 'b'
        - hosts: all
          gather_facts: false
          tasks:
            - copy: {dest: "{{ root }}/second-{{ inventory_hostname }}", content: x}
        """, inventory: threeHosts),
        DifferentialPlay("order decides which host run_once picks", play: """
        - hosts: all
          gather_facts: false
          order: reverse_inventory
          tasks:
            - copy: {dest: "{{ root }}/first", content: "{{ inventory_hostname }}"}
              run_once: true
        - hosts: all
          gather_facts: false
          order: sorted
          tasks:
            - copy: {dest: "{{ root }}/sorted", content: "{{ inventory_hostname }}"}
              run_once: true
        """, inventory: "m ansible_connection=local\nz ansible_connection=local\nb ansible_connection=local\n"),
        DifferentialPlay("force_handlers runs notified handlers on a failed host; module_defaults fill arguments", play: """
        - hosts: all
          gather_facts: false
          force_handlers: true
          module_defaults:
            ansible.builtin.copy: {mode: "0600"}
            file: {state: directory}
          tasks:
            - copy: {dest: "{{ root }}/defaulted", content: x}
              notify: mark
            - file: {path: "{{ root }}/dir"}
            - command: /bin/false
          handlers:
            - name: mark
              copy: {dest: "{{ root }}/handler", content: forced}
        """),
        DifferentialPlay("check_mode, ignore_errors and no_log on the play", play: """
        - hosts: all
          gather_facts: false
          check_mode: true
          ignore_errors: true
          no_log: true
          tasks:
            - copy: {dest: "{{ root }}/not-written", content: SECRET-1234}
            - command: /bin/false
            - copy: {dest: "{{ root }}/written", content: x}
              check_mode: false
        """, forbiddenInBoth: ["SECRET-1234"]),
        DifferentialPlay("gather_facts counts its task; vars_prompt takes -e", play: """
        - hosts: all
          vars_prompt:
            - name: answer
              prompt: what is it?
          tasks:
            - copy: {dest: "{{ root }}/answer", content: "{{ answer }} {{ ansible_facts.hostname is defined }}"}
        """, arguments: ["-e", "answer=given"]),
        DifferentialPlay("handlers run after each section: pre_tasks, tasks, post_tasks", play: """
        - hosts: all
          gather_facts: false
          pre_tasks:
            - shell: echo pre >> {{ root }}/order
              notify: h
          tasks:
            - shell: echo task >> {{ root }}/order
              notify: h
          post_tasks:
            - shell: echo post >> {{ root }}/order
          handlers:
            - name: h
              shell: echo handler >> {{ root }}/order
        """),
    ]

    static let meta = [
        DifferentialPlay("end_host ends one host, end_play the play (decided by the first host)", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - copy: {dest: "{{ root }}/one-{{ inventory_hostname }}", content: x}
            - meta: end_host
              when: inventory_hostname == 'b'
            - copy: {dest: "{{ root }}/two-{{ inventory_hostname }}", content: x}
            - meta: end_play
              when: inventory_hostname == 'c'
            - copy: {dest: "{{ root }}/three-{{ inventory_hostname }}", content: x}
            - meta: end_play
            - copy: {dest: "{{ root }}/never-{{ inventory_hostname }}", content: x}
        - hosts: all
          gather_facts: false
          tasks:
            - copy: {dest: "{{ root }}/second-{{ inventory_hostname }}", content: x}
        """, inventory: threeHosts),
        DifferentialPlay("end_batch ends a serial batch; end_play ends the later batches too", play: """
        - hosts: all
          gather_facts: false
          serial: 2
          tasks:
            - copy: {dest: "{{ root }}/one-{{ inventory_hostname }}", content: x}
            - meta: end_batch
              when: inventory_hostname == 'a'
            - copy: {dest: "{{ root }}/two-{{ inventory_hostname }}", content: x}
        - hosts: all
          gather_facts: false
          serial: 1
          tasks:
            - copy: {dest: "{{ root }}/p2-{{ inventory_hostname }}", content: x}
            - meta: end_play
        """, inventory: fourHosts),
        DifferentialPlay("clear_facts forgets gathered facts, keeps set_fact", play: """
        - hosts: all
          tasks:
            - set_fact: {mine: kept}
            - meta: clear_facts
            - copy: {dest: "{{ root }}/facts", content: "{{ ansible_facts.hostname is defined }} {{ mine }} {{ ansible_hostname | default('gone') }}"}
        """),
        DifferentialPlay("clear_host_errors: the failed host joins later plays and the run succeeds", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - command: /bin/false
              when: inventory_hostname == 'b'
            - meta: clear_host_errors
            - copy: {dest: "{{ root }}/after-{{ inventory_hostname }}", content: x}
        - hosts: all
          gather_facts: false
          tasks:
            - copy: {dest: "{{ root }}/second-{{ inventory_hostname }}", content: x}
        """, inventory: threeHosts),
        DifferentialPlay("noop, reset_connection and flush_handlers with when", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - meta: noop
            - shell: echo task >> {{ root }}/order
              notify: h
            - meta: flush_handlers
              when: false
            - shell: echo between >> {{ root }}/order
            - meta: flush_handlers
            - meta: reset_connection
            - shell: echo last >> {{ root }}/order
          handlers:
            - name: h
              shell: echo handler >> {{ root }}/order
        """),
        DifferentialPlay("end_role skips the rest of its role", play: """
        - hosts: all
          gather_facts: false
          roles: [early]
          tasks:
            - copy: {dest: "{{ root }}/after-role", content: x}
        """, files: ["roles/early/tasks/main.yml": """
        - copy: {dest: "{{ root }}/role-one", content: x}
        - meta: end_role
        - copy: {dest: "{{ root }}/role-two", content: x}
        """]),
        DifferentialPlay("refresh_inventory reads host_vars written by an earlier task", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - copy: {dest: "{{ inventory_dir }}/host_vars/localhost.yml", content: "flavor: new\\n"}
            - meta: refresh_inventory
        - hosts: all
          gather_facts: false
          tasks:
            - copy: {dest: "{{ root }}/flavor", content: "{{ flavor | default('old') }}"}
            - file: {path: "{{ inventory_dir }}/host_vars", state: absent}
        """),
    ]

    static let keyValue = [
        DifferentialPlay("debug, set_fact, assert and fail as key=value text", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - set_fact: x=1 y="two words" z={{ 3 }} w="{{ [1, 2] | length }}"
            - copy: {dest: "{{ root }}/facts", content: "{{ x is string }} {{ z is string }} {{ y }} {{ w }}"}
            - debug: msg="hello {{ y }}"
            - assert: that="x == '1'" success_msg="fine"
            - block:
                - fail: msg="boom {{ y }}"
              rescue:
                - copy: {dest: "{{ root }}/rescued", content: "{{ ansible_failed_result.msg }}"}
            - assert: that="1 == 2"
            - copy: {dest: "{{ root }}/never", content: x}
        """, expectedInBoth: ["hello two words"]),
        DifferentialPlay("variables set_fact k=v defines are not undefined ahead of the run", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - set_fact: a=1 b=two
            - copy: {dest: "{{ root }}/{{ b }}", content: "{{ a }}"}
            - file: path={{ root }}/{{ b }}-dir state=directory mode=0750
        """),
    ]

    static let rescue = [
        DifferentialPlay("rescue sees ansible_failed_task and ansible_failed_result", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - block:
                - name: the failing one
                  command: /bin/false
              rescue:
                - copy: {dest: "{{ root }}/failed", content: "{{ ansible_failed_task.name }} {{ ansible_failed_result.rc }}"}
            - copy: {dest: "{{ root }}/still", content: "{{ ansible_failed_result.rc }}"}
        """),
        DifferentialPlay("a forgiven failure that changed counts as changed", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - shell: touch {{ root }}/made; exit 3
              ignore_errors: true
            - command: /bin/false
              ignore_errors: true
              changed_when: false
        """),
    ]

    static let taskKeywords = [
        DifferentialPlay("throttle: one host at a time", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - shell: echo start >> {{ root }}/log; sleep 0.3; echo end >> {{ root }}/log
              throttle: 1
        """, inventory: threeHosts),
        DifferentialPlay("loop_control extended, pause and index_var", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - shell: >-
                echo "{{ ansible_loop.index }}/{{ ansible_loop.length }} {{ ansible_loop.first }} {{ ansible_loop.last }}
                {{ ansible_loop.previtem | default('-') }} {{ ansible_loop.nextitem | default('-') }} {{ i }}" >> {{ root }}/loop
              loop: [x, y, z]
              loop_control: {extended: true, pause: 0.1, index_var: i}
        """),
        DifferentialPlay("a block's when skips and counts each task, rescue and always too; its tasks see changes", play: """
        - hosts: all
          gather_facts: false
          vars: {go: true}
          tasks:
            - block:
                - copy: {dest: "{{ root }}/one", content: x}
                - command: /bin/false
              rescue:
                - copy: {dest: "{{ root }}/rescued", content: x}
              always:
                - copy: {dest: "{{ root }}/always", content: x}
              when: false
            - block:
                - set_fact: {go: false}
                - copy: {dest: "{{ root }}/after-change", content: x}
              when: go
        """),
        DifferentialPlay("notify on a block reaches its tasks' changes", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - block:
                - copy: {dest: "{{ root }}/one", content: x}
                - copy: {dest: "{{ root }}/two", content: x}
                  notify: own
              notify: inherited
          handlers:
            - name: inherited
              copy: {dest: "{{ root }}/inherited", content: x}
            - name: own
              copy: {dest: "{{ root }}/own", content: x}
        """),
        DifferentialPlay("include_tasks: its when and tags are its own, vars reach the tasks", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - include_tasks: inc.yml
              vars: {flag: 1}
              when: flag is not defined or flag == 1
              tags: [inc]
        """, files: ["inc.yml": """
        - set_fact: {flag: 2}
        - copy: {dest: "{{ root }}/inner", content: "{{ flag }}"}
        """], arguments: ["--tags", "inc"]),
        DifferentialPlay("diff on a task shows its diff without --diff", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - copy: {dest: "{{ root }}/shown", content: "diff-shown-line\\n"}
              diff: true
            - copy: {dest: "{{ root }}/hidden", content: "diff-hidden-line\\n"}
        """, expectedInBoth: ["+diff-shown-line"], forbiddenInBoth: ["+diff-hidden-line"]),
    ]
}
