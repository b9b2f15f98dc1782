package org.unetmm;

/** A descriptor the NIC cannot accept: a bad range, a channel of another endpoint, too many scatter entries. */
public class InvalidDescriptorException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public InvalidDescriptorException(String message) {
        super(message);
    }
}
