import Foundation

/// The engine's side of two things modules hand back besides changes: run-time steps
/// (`Plan.steps`) and facts (`ansible_facts` in a result).
extension HostRun {
    /// Runs a plan's steps in order (in check mode only those that may run there), and the steps
    /// they add, merging what each reads into the task's result. A failing step ends the task.
    /// `target`: the transport of a delegated task; `environment`: the task's `environment:` under each step's own.
    func runSteps(_ steps: [HostStep], as runAs: Become?, checkMode: Bool, into outcome: inout ItemOutcome,
                  via target: Transport? = nil, environment: [String: String] = [:]) throws {
        var queue = steps[...]
        while var step = queue.popFirst() {
            guard !checkMode || step.runsInCheckMode else { continue }
            outcome.commands.append(step.summary)
            step.command.environment = environment.merging(step.command.environment) { _, own in own }
            let verdict = try run(step, via: try target ?? transport(runAs))
            // What a step did to the host is known only now: observations read before are stale.
            if verdict.changed || verdict.touched || verdict.failure != nil { invalidateObservations() }
            outcome.result = outcome.result.merging(verdict.result)
            if let failure = verdict.failure ?? (verdict.satisfied ? nil : "\(step.summary): timed out") {
                outcome.status = .failed
                outcome.message = failure
                outcome.result["failed"] = true
                outcome.result["msg"] = .string(failure)
                return
            }
            if verdict.changed {
                outcome.status = .changed
                outcome.result["changed"] = true
            }
            queue = verdict.next[...] + queue
        }
    }

    /// One step: once, or (polling) again every interval until satisfied or past its timeout.
    private func run(_ step: HostStep, via transport: Transport) throws -> StepOutcome {
        let start = Date()
        if let delay = step.poll?.delay, delay > 0 { Thread.sleep(forTimeInterval: delay) }
        // As Ansible's wait_for: the timeout counts from the start, so the delay is part of it.
        let deadline = start.addingTimeInterval(step.poll?.timeout ?? 0)
        while true {
            let output = try transport.perform(.run(step.command)).output ?? CommandOutput(status: 0, stdout: "")
            let isLast = step.poll == nil || Date() >= deadline
            let verdict = step.interpret(StepRun(output: output, elapsed: Int(Date().timeIntervalSince(start)), isLast: isLast))
            if let progress = verdict.progress { reporter.progress("\(host): \(step.summary): \(progress)") }
            if verdict.satisfied || isLast { return verdict }
            Thread.sleep(forTimeInterval: max(0, min(step.poll?.interval ?? 1, deadline.timeIntervalSinceNow)))
        }
    }

    /// Facts a module returns (`getent`, `package_facts`, `service_facts`) stay with the host, as in
    /// Ansible: in `ansible_facts` (without an `ansible_` prefix) and, as INJECT_FACTS_AS_VARS does, as
    /// variables of their own names, which the play's own variables outrank.
    func absorbFacts(_ value: Value?) {
        guard let new = value?.dict, !new.isEmpty else { return }
        for (key, value) in new {
            facts[key.hasPrefix("ansible_") ? String(key.dropFirst("ansible_".count)) : key] = value
            if play.vars[key] == nil && play.roleVars[key] == nil { base[key] = .untrusted(value) }
        }
        base["ansible_facts"] = .untrusted(.dict(facts))
    }
}
