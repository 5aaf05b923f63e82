import Foundation
import XCTest
@testable import Provisioner

/// Issue 9 §1's rule for the whole engine: a keyword the loader accepts is carried out or refused.
/// This walks every play, block, task, handler and loop_control keyword the loader accepts and runs,
/// for each, a probe with the keyword and the same play without it through the real `provision`:
/// the two runs must differ (files, exit status or output). Shared keywords are probed on a play,
/// a block and a task. A keyword neither probed here nor listed in `coveredElsewhere` fails the test.
final class KeywordCoverageTests: XCTestCase {
    enum Place: String, CaseIterable { case play, block, task }

    struct Probe {
        /// The keyword's own lines (no indentation), left out for the run without it; `%KEYWORD%` in
        /// `play` puts them there instead of on the play, block or task.
        var lines: String
        /// Tasks showing its effect, each "module: args" with its own keywords on following lines;
        /// the keyword goes on the first (task), on a block around them all, or on the play.
        var tasks: [String]
        var places: Set<Place> = Set(Place.allCases)
        var inventory = "localhost ansible_connection=local\n"
        /// Play-level text after the tasks (handlers).
        var play = ""
        var files: [String: String] = [:]
        /// When the effect is in time taken: the runs must differ by more than these seconds.
        var seconds: Double?
        /// The keyword's effect is whether the playbook loads (exit 1 with or without it: a refusal,
        /// a handler only it names); any other probe must load both ways, so that a typo in a probe
        /// cannot pass for an effect.
        var refused = false
    }

    /// Keywords proven by other tests (or owned by another helper): the one place a keyword may be
    /// listed instead of probed. Each names where its effect is shown.
    static let coveredElsewhere: [String: String] = [
        "play.roles": "engine-builtins: role loading (RoleLoader); DifferentialKeywordTests 'end_role skips the rest of its role'",
        "task.include_role": "engine-builtins: include_role (Inclusion)",
        "task.import_role": "engine-builtins: import_role (RoleLoader)",
        "task.ansible.builtin.include_role": "engine-builtins: include_role (Inclusion)",
        "task.ansible.builtin.import_role": "engine-builtins: import_role (RoleLoader)",
        "task.with_<lookup>": "engine-builtins: with_* loops (LoopLoader); not one fixed keyword",
        "play.vars_files": "engine-builtins: vars_files lists (PlayScope)",
        "task.async": "engine-builtins: DifferentialEngineBuiltinsTests 'async: poll > 0, a timeout, poll 0 with async_status and cleanup'",
        "task.poll": "engine-builtins: DifferentialEngineBuiltinsTests 'async: poll > 0, a timeout, poll 0 with async_status and cleanup'",
        "play.hosts": "every play of every test: which hosts run it",
        "block.block": "structure itself: the block.rescue and block.always probes, DifferentialKeywordTests 'rescue sees ...'",
    ]

    static let two = "a ansible_connection=local\nb ansible_connection=local\n"
    static let unreachableFirst = "u ansible_host=127.0.0.1 ansible_port=1 ansible_ssh_args=''\n"
    static let write = #"copy: {dest: "{{ root }}/out", content: "x"}"#
    static let handler = "  handlers:\n    - name: h\n      copy: {dest: \"{{ root }}/handler\", content: x}\n"

    /// The probe of each keyword: shared keywords by name, the others as `play.X`, `block.X`, `task.X`, ...
    static func probes(ssh: (port: Int, vars: String)?) -> [String: Probe] {
        let write = Self.write
        var probes: [String: Probe] = [
            // A block's name is a label, in Ansible too: no run shows it.
            "name": Probe(lines: "name: probe-title-shown", tasks: ["debug: msg=x"], places: [.play, .task]),
            "become": Probe(lines: "become: true", tasks: ["command: /bin/true"],
                            inventory: "localhost ansible_connection=local ansible_become_user=nobody\n"),
            "become_user": Probe(lines: "become: true\nbecome_user: nobody", tasks: ["command: /bin/true"]),
            "become_method": Probe(lines: "become_method: su", tasks: ["command: /bin/true"], refused: true),
            "vars": Probe(lines: "vars: {probe_var: set}", tasks: [#"copy: {dest: "{{ root }}/out", content: "{{ probe_var | default('unset') }}"}"#]),
            "environment": Probe(lines: "environment: {PROBE_ENV: set}", tasks: [#"shell: echo "$PROBE_ENV" > {{ root }}/out"#]),
            "check_mode": Probe(lines: "check_mode: true", tasks: [write]),
            "no_log": Probe(lines: "no_log: true", tasks: ["debug: msg=SECRET-PROBE"]),
            "ignore_errors": Probe(lines: "ignore_errors: true", tasks: ["command: /bin/false", write]),
            "ignore_unreachable": Probe(lines: "ignore_unreachable: true",
                                        tasks: ["command: /bin/true", write + "\ndelegate_to: localhost"], inventory: unreachableFirst),
            "module_defaults": Probe(lines: "module_defaults: {copy: {mode: \"0600\"}}", tasks: [write]),
            "collections": Probe(lines: "collections: [community.general]", tasks: ["not_a_module_anywhere: {}"], refused: true),
            "any_errors_fatal": Probe(lines: "any_errors_fatal: true",
                                      tasks: ["command: /bin/false\nwhen: inventory_hostname == 'a'", #"copy: {dest: "{{ root }}/{{ inventory_hostname }}", content: x}"#],
                                      inventory: two),
            "throttle": Probe(lines: "throttle: 1", tasks: ["shell: echo start >> {{ root }}/log; sleep 0.4; echo end >> {{ root }}/log"], inventory: two),
            "diff": Probe(lines: "diff: true", tasks: [write]),
            "connection": Probe(lines: "connection: local", tasks: [write], inventory: unreachableFirst),
            "run_once": Probe(lines: "run_once: true", tasks: ["shell: echo {{ inventory_hostname }} >> {{ root }}/ran"], inventory: two),
            "tags": Probe(lines: "tags: [never]", tasks: [write]),
            "delegate_to": Probe(lines: "delegate_to: localhost", tasks: [write], places: [.block, .task], inventory: unreachableFirst),
            "when": Probe(lines: "when: false", tasks: [write], places: [.block, .task]),
            "notify": Probe(lines: "notify: h", tasks: [write], places: [.block, .task], play: handler),
            // Play keywords.
            "play.gather_facts": Probe(lines: "gather_facts: false", tasks: [#"copy: {dest: "{{ root }}/out", content: "{{ ansible_facts.hostname is defined }}"}"#], places: [.play]),
            "play.vars_prompt": Probe(lines: "vars_prompt: [{name: answer, prompt: what}]", tasks: [write], places: [.play], refused: true),
            "play.serial": Probe(lines: "serial: 1", tasks: ["shell: echo {{ inventory_hostname }} >> {{ root }}/ran\nrun_once: true"], places: [.play], inventory: two),
            "play.max_fail_percentage": Probe(lines: "max_fail_percentage: 0",
                                              tasks: ["command: /bin/false\nwhen: inventory_hostname == 'a'", #"copy: {dest: "{{ root }}/{{ inventory_hostname }}", content: x}"#],
                                              places: [.play], inventory: two),
            "play.strategy": Probe(lines: "strategy: free", tasks: [write], places: [.play], refused: true),
            "play.order": Probe(lines: "order: reverse_inventory", tasks: [#"copy: {dest: "{{ root }}/first", content: "{{ inventory_hostname }}"}"# + "\nrun_once: true"],
                                places: [.play], inventory: two),
            "play.force_handlers": Probe(lines: "force_handlers: true", tasks: [write + "\nnotify: h", "command: /bin/false"], places: [.play], play: handler),
            "play.pre_tasks": Probe(lines: "pre_tasks:\n  - copy: {dest: \"{{ root }}/pre\", content: x}", tasks: ["debug: msg=x"], places: [.play]),
            "play.post_tasks": Probe(lines: "post_tasks:\n  - copy: {dest: \"{{ root }}/post\", content: x}", tasks: ["debug: msg=x"], places: [.play]),
            "play.handlers": Probe(lines: "handlers:\n  - name: h\n    copy: {dest: \"{{ root }}/handler\", content: x}", tasks: [write + "\nnotify: h"], places: [.play],
                                   refused: true),
            "play.tasks": Probe(lines: "tasks:\n  - copy: {dest: \"{{ root }}/more\", content: x}", tasks: [], places: [.play]),
            // Block keywords.
            "block.rescue": Probe(lines: "rescue:\n  - copy: {dest: \"{{ root }}/rescued\", content: x}", tasks: ["command: /bin/false"], places: [.block]),
            "block.always": Probe(lines: "always:\n  - copy: {dest: \"{{ root }}/always\", content: x}", tasks: ["command: /bin/false"], places: [.block]),
            // Task keywords.
            "task.loop": Probe(lines: "loop: [1, 2]", tasks: ["shell: echo {{ item | default('none') }} >> {{ root }}/out"], places: [.task]),
            "task.loop_control": Probe(lines: "loop_control: {loop_var: probe}", tasks: ["shell: echo {{ probe | default('none') }} >> {{ root }}/out\nloop: [1]"], places: [.task]),
            "task.register": Probe(lines: "register: probe", tasks: ["command: echo hi", #"copy: {dest: "{{ root }}/out", content: "{{ probe.stdout | default('none') }}"}"#], places: [.task]),
            "task.changed_when": Probe(lines: "changed_when: false", tasks: [write], places: [.task]),
            "task.failed_when": Probe(lines: "failed_when: true", tasks: [write], places: [.task]),
            "task.args": Probe(lines: "args: {creates: /}", tasks: ["command: touch {{ root }}/out"], places: [.task]),
            "task.local_action": Probe(lines: "local_action: copy dest={{ root }}/local content=x", tasks: [], places: [.task]),
            "task.action": Probe(lines: "action: copy dest={{ root }}/action content=x", tasks: [], places: [.task]),
            "task.until": Probe(lines: "until: false\nretries: 1\ndelay: 0", tasks: [write], places: [.task]),
            "task.retries": Probe(lines: "retries: 2", tasks: ["shell: echo x >> {{ root }}/tries; exit 1\nuntil: false\ndelay: 0\nignore_errors: true"], places: [.task]),
            "task.delay": Probe(lines: "delay: 0", tasks: ["command: /bin/true\nuntil: false\nretries: 1\nignore_errors: true"], places: [.task], seconds: 3),
            "handler.listen": Probe(lines: "listen: topic", tasks: [write + "\nnotify: topic"], places: [.play],
                                    play: "  handlers:\n    - name: h\n      copy: {dest: \"{{ root }}/handler\", content: x}\n      %KEYWORD%\n", refused: true),
            // loop_control keywords.
            "loop_control.loop_var": Probe(lines: "loop_control: {loop_var: probe}", tasks: ["shell: echo {{ probe | default('none') }} >> {{ root }}/out\nloop: [1]"], places: [.task]),
            "loop_control.index_var": Probe(lines: "loop_control: {index_var: i}", tasks: ["shell: echo {{ i | default('none') }} >> {{ root }}/out\nloop: [a]"], places: [.task]),
            "loop_control.label": Probe(lines: "loop_control: {label: shown-label}", tasks: ["debug: msg=x\nloop: [1]"], places: [.task]),
            "loop_control.pause": Probe(lines: "loop_control: {pause: 1}", tasks: ["debug: msg=x\nloop: [1, 2, 3]"], places: [.task], seconds: 1.5),
            "loop_control.extended": Probe(lines: "loop_control: {extended: true}", tasks: ["shell: echo {{ ansible_loop.index | default('none') }} >> {{ root }}/out\nloop: [a]"], places: [.task]),
            "loop_control.extended_allitems": Probe(lines: ", extended_allitems: false",
                                                    tasks: ["shell: echo {{ ansible_loop.allitems | default('none') }} >> {{ root }}/out\nloop: [a]\nloop_control: {extended: true%KEYWORD%}"],
                                                    places: [.task]),
        ]
        for (key, file) in [("import_tasks", "imported"), ("include_tasks", "included")] {
            for name in [key, "ansible.builtin." + key] {
                probes["task.\(name)"] = Probe(lines: "\(name): more.yml", tasks: [], places: [.task],
                                               files: ["more.yml": "- copy: {dest: \"{{ root }}/\(file)\", content: x}\n"])
            }
        }
        if let ssh {
            // No ansible_user: the keyword (or ssh's default, this user) decides; no ansible_port: likewise.
            probes["remote_user"] = Probe(lines: "remote_user: no-such-user-here", tasks: [write], inventory: "r \(ssh.vars) ansible_port=\(ssh.port)\n")
            probes["port"] = Probe(lines: "port: \(ssh.port)", tasks: [write], inventory: "r \(ssh.vars)\n")
        }
        return probes
    }

    /// Every accepted keyword with the places it may go.
    static var accepted: [String] {
        var names = Set<String>()
        for key in PlaybookKeywords.play { names.insert(PlaybookKeywords.shared.contains(key) ? key : "play.\(key)") }
        for key in PlaybookKeywords.block { names.insert(PlaybookKeywords.shared.contains(key) || ["when", "notify", "delegate_to"].contains(key) ? key : "block.\(key)") }
        for key in PlaybookKeywords.task { names.insert(PlaybookKeywords.shared.contains(key) || ["when", "notify", "delegate_to"].contains(key) ? key : "task.\(key)") }
        for key in PlaybookKeywords.handler.subtracting(PlaybookKeywords.task) { names.insert("handler.\(key)") }
        for key in PlaybookKeywords.loopControl { names.insert("loop_control.\(key)") }
        names.insert("task.with_<lookup>")
        return names.sorted()
    }

    func testEveryAcceptedKeywordHasAnEffectOrIsRefused() throws {
        let server = try? SSHTestServer.start()
        let ssh = server.map { s in
            (port: s.port, vars: "ansible_host=127.0.0.1 ansible_ssh_private_key_file=\(s.clientKey) ansible_ssh_args=''"
                + " ansible_ssh_common_args='-F /dev/null -o IdentitiesOnly=yes -o IdentityAgent=none -o UserKnownHostsFile=\(s.knownHosts)'")
        }
        let probes = Self.probes(ssh: ssh)
        var unproven: [String] = []
        for keyword in Self.accepted where Self.coveredElsewhere[keyword] == nil {
            guard let probe = probes[keyword] else {
                // remote_user and port need the private sshd: without it they are skipped, not unproven.
                if server == nil && ["remote_user", "port"].contains(keyword) { continue }
                unproven.append(keyword)
                continue
            }
            for place in probe.places.sorted(by: { $0.rawValue < $1.rawValue }) {
                try assertEffect(of: keyword, probe, on: place)
            }
        }
        XCTAssertEqual(unproven, [], "keywords the loader accepts with neither a probe here nor an entry in coveredElsewhere")
        XCTAssertGreaterThan(Self.accepted.count, 60)
    }

    /// Ansible's keywords provision does not carry out are refused at validate time, with the reason and file:line:col.
    func testAnsibleKeywordsProvisionLacksAreRefusedWithTheirReason() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        for (keyword, reason) in PlaybookKeywords.unsupported.sorted(by: { $0.key < $1.key }) where !keyword.hasPrefix("ansible.builtin.") {
            let onPlay = ["gather_subset", "gather_timeout", "fact_path"].contains(keyword)
            let text = onPlay
                ? "- hosts: localhost\n  gather_facts: false\n  \(keyword): 1\n  tasks:\n    - debug: msg=x\n"
                : "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - debug: msg=x\n      \(keyword): 1\n"
            try scratch.write("play.yml", text)
            let run = try scratch.provision(["validate", "play.yml"])
            XCTAssertEqual(run.status, 1, "\(keyword): \(run.stdout)\(run.stderr)")
            XCTAssertTrue(run.stderr.contains("play.yml:\(onPlay ? 3 : 5):\(onPlay ? 3 : 7): "), "\(keyword): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(reason), "\(keyword): \(run.stderr)")
        }
    }

    // MARK: Running probes

    func playbook(_ probe: Probe, on place: Place, with: Bool) -> String {
        func indent(_ text: String, _ spaces: Int) -> String {
            text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : String(repeating: " ", count: spaces) + $0 }
                .joined(separator: "\n") + "\n"
        }
        /// A task as a list entry: "- " on its first line, its other lines under it.
        func entry(_ task: String) -> String {
            let lines = task.split(separator: "\n").map(String.init)
            return (["- " + lines[0]] + lines.dropFirst().map { "  " + $0 }).joined(separator: "\n")
        }
        let marked = probe.play.contains("%KEYWORD%") || probe.tasks.contains { $0.contains("%KEYWORD%") }
        let keyword = with && !marked ? probe.lines : ""
        var probe = probe
        probe.tasks = probe.tasks.map { $0.replacingOccurrences(of: "%KEYWORD%", with: with ? probe.lines : "") }
        var text = "- hosts: all\n"
        if !probe.lines.hasPrefix("gather_facts") { text += "  gather_facts: false\n" }
        switch place {
        case .play:
            if !keyword.isEmpty { text += indent(keyword, 2) }
            if probe.lines.hasPrefix("tasks:") {
                if !with { text += "  tasks: []\n" }
            } else {
                text += "  tasks:\n" + probe.tasks.map { indent(entry($0), 4) }.joined()
            }
        case .block:
            text += "  tasks:\n    - block:\n" + probe.tasks.map { indent(entry($0), 8) }.joined()
            if !keyword.isEmpty { text += indent(keyword, 6) }
        case .task:
            var tasks = probe.tasks
            if tasks.isEmpty {
                // The keyword is the task (local_action, import_tasks).
                tasks = [keyword.isEmpty ? "debug: msg=x" : keyword]
            } else {
                tasks[0] += keyword.isEmpty ? "" : "\n" + keyword
            }
            text += "  tasks:\n" + tasks.map { indent(entry($0), 4) }.joined()
        }
        let lines = with ? probe.lines : ""
        return text + probe.play.replacingOccurrences(of: "%KEYWORD%", with: lines.replacingOccurrences(of: "\n", with: "\n      "))
    }

    struct Outcome: Equatable {
        var status: Int32
        var output: String
        var tree: [String]
        var seconds: Double

        static func == (a: Outcome, b: Outcome) -> Bool { a.status == b.status && a.output == b.output && a.tree == b.tree }
    }

    func outcome(_ probe: Probe, on place: Place, with: Bool) throws -> Outcome {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("play.yml", playbook(probe, on: place, with: with))
        try scratch.write("hosts.ini", probe.inventory)
        for (path, text) in probe.files { try scratch.write(path, text) }
        try FileManager.default.createDirectory(atPath: scratch.path("out"), withIntermediateDirectories: true)
        let start = Date()
        let run = try scratch.provision(["apply", "play.yml", "-i", "hosts.ini", "-e", "root=\(scratch.path("out"))"])
        let seconds = Date().timeIntervalSince(start)
        // Timings and the scratch folder's name differ from run to run; nothing else should.
        let output = (run.stdout + run.stderr).split(separator: "\n")
            .filter { !$0.contains(" changed in ") }
            .map { $0.replacingOccurrences(of: scratch.path, with: "SCRATCH") }.joined(separator: "\n")
        return Outcome(status: run.status, output: output, tree: try AnsibleDifferential.tree(URL(fileURLWithPath: scratch.path("out"))), seconds: seconds)
    }

    func assertEffect(of keyword: String, _ probe: Probe, on place: Place, file: StaticString = #filePath, line: UInt = #line) throws {
        let with = try outcome(probe, on: place, with: true)
        let without = try outcome(probe, on: place, with: false)
        if !probe.refused {
            XCTAssertNotEqual(with.status, 1, "\(keyword) on a \(place): the probe does not load:\n\(playbook(probe, on: place, with: true))\n\(with.output)",
                              file: file, line: line)
        }
        if !probe.refused {
            XCTAssertNotEqual(without.status, 1, "\(keyword) on a \(place): the probe without it does not load:\n\(playbook(probe, on: place, with: false))\n\(without.output)",
                              file: file, line: line)
        }
        if let seconds = probe.seconds {
            XCTAssertGreaterThan(abs(with.seconds - without.seconds), seconds, "\(keyword) on a \(place): takes as long without it", file: file, line: line)
        } else {
            XCTAssertNotEqual(with, without, "\(keyword) on a \(place) changes nothing:\n\(playbook(probe, on: place, with: true))\n\(with.output)",
                              file: file, line: line)
        }
    }
}
