/// The keywords the loader accepts for plays, blocks, tasks and handlers. Each one is carried out
/// (KeywordCoverageTests proves it); Ansible's others are refused with the reason, never taken for typos.
enum PlaybookKeywords {
    /// Keywords plays, blocks and tasks share (Ansible's `Base` and friends).
    static let shared: Set<String> = [
        "name", "become", "become_user", "become_method", "vars", "environment", "check_mode", "no_log",
        "ignore_errors", "ignore_unreachable", "module_defaults", "collections", "any_errors_fatal", "throttle",
        "diff", "connection", "remote_user", "port", "run_once", "tags",
    ]

    static let play: Set<String> = shared.union([
        "hosts", "vars_files", "vars_prompt", "gather_facts", "serial", "max_fail_percentage", "roles",
        "pre_tasks", "tasks", "post_tasks", "handlers", "strategy", "order", "force_handlers",
    ])

    static let block: Set<String> = shared.union(["block", "rescue", "always", "when", "notify", "delegate_to"])

    static let task: Set<String> = shared.union([
        "when", "loop", "loop_control", "notify", "register", "changed_when",
        "failed_when", "args", "delegate_to", "local_action", "action", "retries", "delay", "until", "async", "poll",
        "include_tasks", "import_tasks", "ansible.builtin.include_tasks", "ansible.builtin.import_tasks",
        "include_role", "import_role", "ansible.builtin.include_role", "ansible.builtin.import_role",
    ])

    static let handler: Set<String> = task.union(["listen"])

    static let loopControl: Set<String> = ["loop_var", "index_var", "label", "pause", "extended", "extended_allitems"]

    /// Ansible keywords provision does not carry out, with what to do instead. A key here wins over
    /// the tables above only where those lack it.
    static let unsupported: [String: String] = [
        "timeout": "provision does not implement Ansible's task 'timeout' yet; remove it (commands then run to completion)",
        "delegate_facts": "provision does not implement 'delegate_facts' yet: facts always go to the host the task runs for",
        "debugger": "provision has no task debugger; remove 'debugger'",
        "become_exe": "provision becomes other users with 'sudo -n' only; remove 'become_exe'",
        "become_flags": "provision becomes other users with 'sudo -n' only; remove 'become_flags'",
        "gather_subset": "provision gathers its one set of facts; 'gather_subset' is not implemented yet",
        "gather_timeout": "provision gathers facts in one round trip; 'gather_timeout' is not implemented yet",
        "fact_path": "provision does not read local facts ('fact_path') yet",
        "include": "'include' was removed in Ansible 2.16: use include_tasks (dynamic) or import_tasks (static)",
        "ansible.builtin.include": "'include' was removed in Ansible 2.16: use include_tasks (dynamic) or import_tasks (static)",
        "break_when": "provision does not implement 'loop_control.break_when' yet",
    ]

    /// The `with_<lookup>` loops among a task's keys (the loop reader checks their lookup).
    static func loops(in pairs: [YAMLPair]) -> Set<String> {
        Set(pairs.map { YAMLJSON.keyText($0.key) }.filter { PlaybookLoader.loopLookup($0) != nil })
    }

    /// Why `key` cannot go on a `what` (play, block, task, handler), or nil when it is no Ansible keyword.
    static func refusal(_ key: String, on what: String) -> String? {
        if key.hasPrefix("with_"), AnsibleNames.lookups.contains(String(key.dropFirst(5))) {
            return "'\(key)' loops over the '\(key.dropFirst(5))' lookup, which provision does not implement yet"
        }
        if let reason = unsupported[key] { return reason }
        let elsewhere: [(String, Set<String>)] = [("play", play), ("block", block), ("task", task), ("handler", handler)]
        let places = elsewhere.filter { $0.0 != what && $0.1.contains(key) }.map(\.0)
        guard !places.isEmpty else { return nil }
        return "'\(key)' is not valid on a \(what) (Ansible allows it on a \(places.joined(separator: " or ")))"
    }
}
