package org.unetmm.nic.shm;

import org.unetmm.TransportException;

/**
 * The shm wire could not open or reach a region: another user's file, a name in use, a peer that
 * is not there, a region of another version. The message names the fix.
 */
public final class ShmException extends TransportException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception without a cause.
     *
     * @param message what failed and how to fix it
     */
    public ShmException(String message) {
        super(message, null);
    }
}
