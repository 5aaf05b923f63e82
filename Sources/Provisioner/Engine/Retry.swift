import Foundation

/// `until` / `retries` / `delay`, as Ansible's attempt loop: the task runs again (after `delay`
/// seconds, "FAILED - RETRYING" reported) until `until` holds (or, without it, until the task does
/// not fail); out of attempts, it fails. The result carries `attempts`.
extension HostRun {
    struct RetryPolicy {
        /// Runs in all, the first included.
        var runs: Int
        var delay: Double
        var until: [Value]?
    }

    func retryPolicy(_ task: Task, _ templar: Templar) throws -> RetryPolicy {
        var runs = 1
        if let retries = task.retries {
            runs += max(0, try wholeNumber(retries, "retries", templar))
        } else if task.until != nil {
            runs += 3
        }
        var delay = Double(try task.delay.map { try wholeNumber($0, "delay", templar) } ?? 5)
        if delay < 0 { delay = 1 }
        return RetryPolicy(runs: runs, delay: delay, until: task.until)
    }

    func wholeNumber(_ value: Value, _ keyword: String, _ templar: Templar) throws -> Int {
        let rendered = try templar.render(value)
        if case .int(let n) = rendered { return n }
        guard let n = Int(rendered.pythonText.trimmingSpaces) else {
            throw ModuleError("'\(keyword)' must be a whole number, not \(rendered.pythonText)")
        }
        return n
    }

    /// Runs `attempt` (numbered from 1) as the task's retry policy says.
    func retrying(_ task: Task, _ templar: Templar, _ attempt: (Int) throws -> ItemOutcome) throws -> ItemOutcome {
        let policy = try retryPolicy(task, templar)
        var outcome = ItemOutcome(status: .ok)
        for number in 1...policy.runs {
            // A retry waits for the host to change by itself: what was observed before no longer counts.
            if number > 1 { invalidateObservations() }
            outcome = try attempt(number)
            guard policy.runs > 1, outcome.status != .skipped else { return outcome }
            outcome.result["attempts"] = .int(number)
            var bound = ValueDict()
            if let name = task.register { bound[name] = .untrusted(.dict(outcome.result)) }
            let done: Bool
            do {
                done = try policy.until.map { try conditionsHold($0, makeTemplar(templar.variables.merging(bound), task.common)) }
                    ?? (outcome.status != .failed)
            } catch {
                outcome.status = .failed
                outcome.message = describe(error, task: task)
                outcome.result["failed"] = true
                return outcome
            }
            if done { return outcome }
            if number < policy.runs {
                reporter.retrying(host: host, task: task.displayName, retriesLeft: policy.runs - number)
                if policy.delay > 0 { Thread.sleep(forTimeInterval: policy.delay) }
            }
        }
        // As Ansible: out of attempts, the result fails and says one attempt fewer than were made.
        outcome.result["attempts"] = .int(policy.runs - 1)
        outcome.result["failed"] = true
        outcome.status = .failed
        outcome.message = outcome.message ?? "gave up after \(policy.runs) attempts"
            + (policy.until.map { ": until \($0.map { $0.string ?? $0.pythonText }.joined(separator: " and ")) never held" } ?? "")
        return outcome
    }
}
