package org.unetmm;

/**
 * Upcall for completions. The {@link Completion} passed is a reused view, valid only during the
 * call: copy what you keep ({@link Completion#copy()}).
 */
@FunctionalInterface
public interface CompletionHandler {
    /**
     * Told of one completion, on the thread that drives progress; must not block.
     *
     * @param completion a reused view, valid only during the call
     */
    void onCompletion(Completion completion);
}
