package org.unetmm.internal;

import java.nio.ByteBuffer;

/** A posted receive buffer on an endpoint's free queue: (buffer, offset, length) and the caller's cookie. */
public final class ReceiveDescriptor {
    public ByteBuffer buffer;
    /** Native address of the buffer's index 0. */
    public long address;
    public int offset;
    public int length;
    public long cookie;
}
