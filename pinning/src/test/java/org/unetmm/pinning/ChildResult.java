package org.unetmm.pinning;

import java.util.concurrent.Callable;

/**
 * How a child JVM started by {@link UnprivilegedJvm} tells its parent what happened: one line
 * {@code RESULT OK <summary>} and exit 0, or {@code RESULT FAIL <error>} with the stack trace and
 * exit 1. No JUnit here: the child runs outside the test framework.
 */
public final class ChildResult {
    private ChildResult() {
    }

    /** Runs {@code body} and exits the JVM with its result. */
    public static void report(Callable<String> body) {
        try {
            System.out.println("RESULT OK " + body.call());
            System.out.flush();
            System.exit(0);
        } catch (Throwable t) {
            System.out.println("RESULT FAIL " + t);
            t.printStackTrace(System.out);
            System.out.flush();
            System.exit(1);
        }
    }
}
