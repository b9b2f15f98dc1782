package org.unetmm;

/**
 * A {@link CompletionHandler} threw. The completion it was given had been delivered (it is not
 * repeated), the engine went on with the next one; the handler's exception is the cause. Reported
 * to the NIC's {@link ErrorHandler} and counted in {@link NicStats#handlerErrors()}.
 */
public final class CompletionHandlerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CompletionHandlerException(String message, Throwable cause) {
        super(message, cause);
    }
}
