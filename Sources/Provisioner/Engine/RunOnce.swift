/// `run_once`: the first host of the batch runs the task (and decides its `when`); every host of
/// the batch gets its result (register, set_fact, include_vars), only that host's recap counts
/// it, and a failure there fails the whole batch, as in Ansible's linear strategy.
extension HostRun {
    func runsOnce(_ task: Task, _ templar: Templar) throws -> Bool {
        guard let value = task.common.runOnce else { return false }
        return try isTrue(value, templar)
    }

    /// The key under which the hosts of the batch meet at this occurrence of `task`.
    func arrivalKey(_ task: Task) -> String {
        let count = arrivals[task.common.location, default: 0] + 1
        arrivals[task.common.location] = count
        return "\(task.common.location)#\(count)"
    }

    /// Waits for the batch at `task`; true for the host that leads.
    func meet(at task: Task) -> Bool {
        coordinator.meet(host, at: arrivalKey(task))
    }

    func runOnce(_ task: Task, handler: Bool) {
        let key = arrivalKey(task)
        // A host that reaches the task after the others met there takes the result at once.
        if let result = coordinator.sharedValue(for: key, wait: false) as? TaskResult { return receive(result, of: task) }
        if coordinator.meet(host, at: key) {
            let result = execute(task, handler: handler)
            if result.failed { coordinator.failAll(except: host) }
            coordinator.publish(result, for: key)
        } else if let result = coordinator.sharedValue(for: key, wait: true) as? TaskResult {
            receive(result, of: task)
        }
    }

    func receive(_ result: TaskResult, of task: Task) {
        // The task happened for this host too (shown only where it ran): keeps hosts' outputs in step.
        reporter.taskStarted((task.common.role.map { "\($0.name) : " } ?? "") + task.displayName, handler: false, host: host)
        if let name = task.register { hostVars[name] = .untrusted(result.register) }
        guard task.module == EngineAction.setFact.rawValue || task.module == EngineAction.includeVars.rawValue else { return }
        for (name, value) in result.facts { hostVars[name] = value }
    }

    /// `throttle`: how many hosts may run this task at once; nil for no limit.
    func throttle(_ task: Task, _ templar: Templar) throws -> Int? {
        guard let value = task.common.throttle else { return nil }
        let limit = try wholeNumber(value, "throttle", templar)
        return limit > 0 ? limit : nil
    }
}
