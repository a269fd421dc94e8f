package dev.ferry.agent.command;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.ferry.time.Scheduler;

/**
 * A program and everything it had started when the tree was taken, to be ended together: each process is
 * asked to stop, and those still alive after a grace period on the scheduler are forced. The list is
 * taken while the program still lives, because once it dies its children are re-parented and can no
 * longer be found as its descendants. Immutable; {@link #destroy} never blocks.
 */
final class ProcessTree {

    /** No processes: what a run that never started, or whose program has exited, has to end. */
    static final ProcessTree NONE = new ProcessTree(List.of());

    private final List<ProcessHandle> processes;

    private ProcessTree(List<ProcessHandle> processes) {
        this.processes = List.copyOf(processes);
    }

    /** The root's descendants, then the root itself. */
    static ProcessTree of(ProcessHandle root) {
        List<ProcessHandle> processes = new ArrayList<>(root.descendants().toList());
        processes.add(root);
        return new ProcessTree(processes);
    }

    void destroy(Scheduler scheduler, Duration grace) {
        if (processes.isEmpty()) {
            return;
        }
        processes.forEach(ProcessHandle::destroy);
        scheduler.schedule(grace, () -> processes.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly));
    }

    @Override
    public String toString() {
        return "ProcessTree" + processes.stream().map(ProcessHandle::pid).toList();
    }
}
