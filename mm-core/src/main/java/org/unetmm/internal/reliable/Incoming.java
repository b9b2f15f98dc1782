package org.unetmm.internal.reliable;

import java.nio.ByteBuffer;
import org.unetmm.internal.FragmentSet;
import org.unetmm.internal.ReceiveDescriptor;

/** A slot of the receive window: one message arriving into one posted buffer. */
final class Incoming {
    final FragmentSet fragments = new FragmentSet();
    /** Holds a posted buffer (taken in id order). */
    boolean bound;
    ByteBuffer buffer;
    long address;
    int offset;
    int capacity;
    long cookie;
    long id;
    /** The message's length, from its first admitted fragment; -1 = nothing admitted yet. */
    int length = -1;
    boolean truncated;
    /** The sender's fragment size, learnt from a verified fragment that is not the last; 0 = unknown. */
    int unit;
    /** Fragments that verified, and their bytes. */
    int verified;
    int received;
    boolean complete;

    void take(ReceiveDescriptor r, long messageId) {
        buffer = r.buffer;
        address = r.address;
        offset = r.offset;
        capacity = r.length;
        cookie = r.cookie;
        id = messageId;
        bound = true;
        restart();
    }

    /** Forgets what arrived (the buffer stays): nothing verified, length unknown. */
    void restart() {
        length = -1;
        truncated = false;
        unit = 0;
        verified = 0;
        received = 0;
        complete = false;
    }

    void release() {
        bound = false;
        buffer = null;
        restart();
    }

    /** Fragments of the message, as the receiver counts them (1 until the fragment size is known). */
    int fragmentCount() {
        return unit == 0 ? 1 : (int) ((length + (long) unit - 1) / unit);
    }
}
