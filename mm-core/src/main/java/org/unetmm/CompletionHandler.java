package org.unetmm;

/**
 * Upcall for completions. The {@link Completion} passed is a reused view, valid only during the
 * call: copy what you keep ({@link Completion#copy()}).
 */
@FunctionalInterface
public interface CompletionHandler {
    void onCompletion(Completion completion);
}
