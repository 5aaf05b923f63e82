/// `meta:` actions as Ansible's linear strategy carries them out. flush_handlers, end_host,
/// end_role, noop and reset_connection act for the host; end_play, end_batch, clear_facts,
/// clear_host_errors and refresh_inventory act for the whole batch, decided by its first host
/// (whose `when` is the one that counts). No meta task is counted in the recap.
enum MetaAction: String, CaseIterable {
    case flushHandlers = "flush_handlers", noop, endHost = "end_host", endPlay = "end_play", endBatch = "end_batch"
    case endRole = "end_role", clearFacts = "clear_facts", clearHostErrors = "clear_host_errors"
    case refreshInventory = "refresh_inventory", resetConnection = "reset_connection"

    var actsForBatch: Bool { [.endPlay, .endBatch, .clearFacts, .clearHostErrors, .refreshInventory].contains(self) }
    /// Ansible warns that these ignore `when`, and runs them anyway.
    var ignoresWhen: Bool { [.noop, .refreshInventory, .resetConnection].contains(self) }

    static func named(_ arguments: Value) -> String {
        (arguments.string ?? arguments["_raw_params"]?.string ?? "").trimmingSpaces
    }

    /// Checks a meta task when the playbook is loaded.
    static func check(_ arguments: Value, task node: YAMLNode, at location: SourceLocation, in doc: PlaybookLoader.LoadedFile) throws {
        let name = named(arguments)
        guard MetaAction(rawValue: name) != nil else {
            let names = allCases.map(\.rawValue)
            if name == "role_complete" { throw ParseError("'meta: role_complete' is internal to Ansible; use 'meta: end_role'", at: location) }
            throw ParseError("'\(name)' is not a meta action\(Suggestion.hint(for: name, in: names)) (they are \(names.joined(separator: ", ")))", at: location)
        }
        for key in ["loop", "with_items", "with_list"] where node[key] != nil {
            throw ParseError("meta tasks do not loop: remove '\(key)'", at: doc.location(of: node[key] ?? node))
        }
    }
}

extension HostRun {
    func runMeta(_ task: Task) {
        if task.implicit { return runHandlers() }
        guard engine.tagsSelect(task.common.tags), let action = MetaAction(rawValue: MetaAction.named(task.arguments)) else { return }
        reporter.taskStarted("meta", handler: false, host: host)
        let templar = makeTemplar(scope(task.common), task.common)
        do {
            if action.actsForBatch { return try runForBatch(action, task, templar) }
            if action.ignoresWhen {
                if !task.common.when.isEmpty { reporter.warning("meta: \(action.rawValue) does not support when conditionals; it runs anyway (as in Ansible)") }
            } else if try !conditionsHold(task.common.when, templar) {
                return reportSkipped(task)
            }
            switch action {
            case .flushHandlers: runHandlers()
            case .endHost: ended = true
            case .endRole:
                guard let role = task.common.role else { throw ModuleError("meta: end_role can only be used inside a role") }
                endedRole = role
            case .resetConnection: resetConnection()
            default: break
            }
        } catch {
            fail(name: "meta", location: task.common.location, message: describe(error, task: task))
        }
    }

    /// A play-wide action: the batch's first host decides it; every host then acts on the decision.
    func runForBatch(_ action: MetaAction, _ task: Task, _ templar: Templar) throws {
        let key = arrivalKey(task)
        let decided: Bool
        if let shared = coordinator.sharedValue(for: key, wait: false) as? Bool {
            decided = shared
        } else if coordinator.meet(host, at: key) {
            decided = action.ignoresWhen ? true : ((try? conditionsHold(task.common.when, templar)) ?? false)
            if action.ignoresWhen && !task.common.when.isEmpty {
                reporter.warning("meta: \(action.rawValue) does not support when conditionals; it runs anyway (as in Ansible)")
            }
            if decided {
                switch action {
                case .endPlay: coordinator.endBatch(play: true)
                case .endBatch: coordinator.endBatch(play: false)
                case .clearHostErrors: coordinator.forgiveErrors()
                case .refreshInventory: try engine.hosts?.refreshInventory()
                default: break
                }
            } else {
                reportSkipped(task)
            }
            coordinator.publish(decided, for: key)
        } else {
            decided = coordinator.sharedValue(for: key, wait: true) as? Bool ?? false
        }
        if decided && action == .clearFacts { clearFacts() }
    }

    /// `meta: clear_facts`: gathered and module facts go (set_fact values stay, as in Ansible).
    func clearFacts() {
        for (key, value) in Facts.variables(facts) where base[key] == value { base[key] = nil }
        for (key, value) in facts where base[key] == value && play.vars[key] == nil { base[key] = nil }
        base["ansible_facts"] = nil
        facts = ValueDict()
    }

    /// Ansible shows a meta whose `when` is false as skipped, and counts nothing.
    func reportSkipped(_ task: Task) {
        var report = TaskReport(host: host, task: "meta", location: task.common.location, status: .skipped)
        report.message = "conditional result was False"
        reporter.report(report)
    }
}
