/// A host's start in one round trip: with the facts it gave last time (`FactsMemory`), every task
/// that can be rendered now is rendered and its observations sent together with the facts script;
/// when the facts that come back are the same, that work stands, as it would have been done with
/// them; when they differ, it is thrown away and done again with the host's own facts.
extension HostRun {
    /// Facts, vars_files and the first observations, before any task.
    func start(runtimeNames: (names: Set<String>, open: Bool)) throws {
        // vars_files may be named after facts, and say what they skip: those plays go in turn.
        guard play.gatherFacts, play.varsFiles.isEmpty else { return try startInTurn(runtimeNames) }
        let factsTransport = try transport(try become(nil))
        guard let memory = FactsMemory(host: factsTransport.name), let remembered = memory.load() else {
            return try startInTurn(runtimeNames)
        }
        let request = Facts.observation(podman: remembered.podman)
        let before = (base: base, aboveDefaults: aboveDefaults)
        facts = remembered.facts
        var gathered: ValueDict?
        do {
            try prepareVariables()
            let observed = try prefetch(runtimeNames: runtimeNames, alongWith: request)
            gathered = try Facts.read(observed, for: request, host: host, memory: memory)
        } catch let error as TransportError {
            throw error
        } catch {
            // Found with remembered facts: decided again below with the host's own.
        }
        if let gathered, gathered == remembered.facts { return }
        (base, aboveDefaults) = before
        discardObservations()
        if let gathered {
            facts = gathered
            try prepareVariables()
        } else {
            try prepare()
        }
        try prefetch(runtimeNames: runtimeNames)
    }

    private func startInTurn(_ runtimeNames: (names: Set<String>, open: Bool)) throws {
        try prepare()
        do {
            try prefetch(runtimeNames: runtimeNames)
        } catch let error as TransportError where error.unreachable && !play.gatherFacts {
            // As Ansible: the first task that reaches the host finds it unreachable (ignore_unreachable may forgive it).
        }
    }
}
