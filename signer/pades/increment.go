package pades

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

func init() {
	// pdfcpu otherwise creates a configuration directory under the user's
	// home on first use; a signer must not leave files behind.
	// (api.DisableConfigDir does this, but importing pdfcpu's api package
	// links its form support and a text-width library whose start-up costs
	// every esig process about 25 ms.)
	model.ConfigPath = "disable"
}

// byteRangeWidth is the width pdfcpu reserves for the ByteRange value: room
// for "[0 a b c]" with three ten-digit offsets.
const byteRangeWidth = 36

// increment is one incremental update (ISO 32000-1, 7.5.6) being prepared:
// the file so far, read by pdfcpu, and the objects the update writes.
// Everything before stays byte for byte, which is what keeps earlier
// signatures valid.
type increment struct {
	base []byte
	ctx  *model.Context
	objs []int
}

// readIncrement reads pdf for an incremental update.
func readIncrement(pdf []byte) (inc *increment, err error) {
	defer func() {
		// A library panic on a malformed file must be an error here.
		if r := recover(); r != nil {
			inc, err = nil, fmt.Errorf("pades: the PDF could not be read: %v", r)
		}
	}()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return nil, errors.New("pades: the input is not a PDF (no %PDF- header)")
	}
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	ctx, err := pdfcpu.Read(bytes.NewReader(pdf), conf)
	if err != nil {
		return nil, fmt.Errorf("pades: reading the PDF: %w", err)
	}
	if ctx.Encrypt != nil {
		return nil, errors.New("pades: encrypted PDFs are not supported")
	}
	base := pdf
	if last := pdf[len(pdf)-1]; last != '\n' && last != '\r' {
		// The update must start on a line of its own after %%EOF.
		base = append(append([]byte(nil), pdf...), '\n')
	}
	return &increment{base: base, ctx: ctx}, nil
}

// add inserts a new object and returns a reference to it.
func (inc *increment) add(o types.Object) types.IndirectRef {
	n, _ := inc.ctx.InsertObject(o)
	inc.objs = append(inc.objs, n)
	return *types.NewIndirectRef(n, 0)
}

// touch marks an existing object as rewritten by the update.
func (inc *increment) touch(objNr int) {
	for _, n := range inc.objs {
		if n == objNr {
			return
		}
	}
	inc.objs = append(inc.objs, objNr)
}

// set replaces the value of an existing object (arrays are values in
// pdfcpu, so appending to one needs this).
func (inc *increment) set(objNr int, o types.Object) error {
	e, ok := inc.ctx.FindTableEntryLight(objNr)
	if !ok || e.Free {
		return fmt.Errorf("pades: object %d does not exist", objNr)
	}
	e.Object = o
	inc.touch(objNr)
	return nil
}

// root returns the catalog and its object number.
func (inc *increment) root() (types.Dict, int, error) {
	if inc.ctx.Root == nil {
		return nil, 0, errors.New("pades: the PDF has no catalog")
	}
	d, err := inc.ctx.Catalog()
	if err != nil {
		return nil, 0, fmt.Errorf("pades: catalog: %w", err)
	}
	return d, inc.ctx.Root.ObjectNumber.Value(), nil
}

// dictIn resolves d[key] as a dictionary and says which object to touch
// when it changes: its own when it is indirect, owner's when it is direct.
// A missing entry is created as a new indirect dictionary.
func (inc *increment) dictIn(d types.Dict, owner int, key string) (types.Dict, error) {
	switch v := d[key].(type) {
	case nil:
		nd := types.NewDict()
		d[key] = inc.add(nd)
		inc.touch(owner)
		return nd, nil
	case types.Dict:
		inc.touch(owner)
		return v, nil
	case types.IndirectRef:
		nd, err := inc.ctx.DereferenceDict(v)
		if err != nil || nd == nil {
			return nil, fmt.Errorf("pades: /%s is not a dictionary", key)
		}
		inc.touch(v.ObjectNumber.Value())
		return nd, nil
	}
	return nil, fmt.Errorf("pades: /%s is not a dictionary", key)
}

// appendTo appends o to the array d[key], creating it when missing.
func (inc *increment) appendTo(d types.Dict, owner int, key string, o types.Object) error {
	switch v := d[key].(type) {
	case nil:
		d[key] = types.Array{o}
		inc.touch(owner)
	case types.Array:
		d[key] = append(v, o)
		inc.touch(owner)
	case types.IndirectRef:
		a, err := inc.ctx.DereferenceArray(v)
		if err != nil {
			return fmt.Errorf("pades: /%s is not an array", key)
		}
		return inc.set(v.ObjectNumber.Value(), append(append(types.Array(nil), a...), o))
	default:
		return fmt.Errorf("pades: /%s is not an array", key)
	}
	return nil
}

// placeholder records where the signature dictionary's ByteRange and
// Contents were written.
type placeholder struct {
	byteRange int64 // offset of the ByteRange value
	contents  int64 // offset of the Contents string, at its '<'
}

// write serialises the update after the base file. With a placeholder
// signature dictionary in it, pdfcpu reports where ByteRange and Contents
// went; the caller fills them in.
func (inc *increment) write() (out []byte, ph placeholder, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("pades: writing the update: %v", r)
		}
	}()
	ctx := inc.ctx
	// A file whose last section is a cross-reference stream is continued
	// with one; a classic table with a classic table (ISO 32000-1, 7.5.8).
	ctx.WriteXRefStream = ctx.Read.UsingXRefStreams
	ctx.WriteObjectStream = false
	ctx.Write.Increment = true
	ctx.Write.Offset = int64(len(inc.base))
	ctx.Write.ObjNrs = append([]int(nil), inc.objs...)
	ctx.Write.OffsetSigByteRange, ctx.Write.OffsetSigContents = 0, 0
	var buf bytes.Buffer
	ctx.Write.Writer = bufio.NewWriter(&buf)
	err = pdfcpu.WriteIncrement(ctx)
	if ferr := ctx.Write.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return nil, ph, fmt.Errorf("pades: writing the update: %w", err)
	}
	out = append(append(make([]byte, 0, len(inc.base)+buf.Len()), inc.base...), buf.Bytes()...)
	ph = placeholder{byteRange: ctx.Write.OffsetSigByteRange, contents: ctx.Write.OffsetSigContents}
	return out, ph, nil
}

// seal fills in a placeholder: the ByteRange covering the whole file but
// the Contents string, and the signature value made by sign over those
// bytes (ISO 32000-1, 12.8.1). It checks that the placeholder is where
// pdfcpu said, so that a change in the library cannot produce a signature
// over other bytes than it claims.
func seal(out []byte, ph placeholder, sign func(signed [][]byte) ([]byte, error)) error {
	n := int64(len(out))
	if ph.byteRange <= 0 || ph.contents <= 0 || ph.byteRange+byteRangeWidth > n || ph.contents >= n {
		return errors.New("pades: the signature dictionary was not written where expected")
	}
	if !bytes.HasPrefix(out[ph.byteRange:], []byte("[0 0 0 0]")) || out[ph.contents] != '<' {
		return errors.New("pades: the signature placeholder was not written as expected")
	}
	end := bytes.IndexByte(out[ph.contents:], '>')
	if end < 0 {
		return errors.New("pades: the Contents placeholder is not terminated")
	}
	holeEnd := ph.contents + int64(end) + 1
	hexLen := int(holeEnd - ph.contents - 2)
	br := fmt.Sprintf("[0 %d %d %d]", ph.contents, holeEnd, n-holeEnd)
	if len(br) > byteRangeWidth {
		return errors.New("pades: the file is too large for a ByteRange")
	}
	copy(out[ph.byteRange:], fmt.Sprintf("%-*s", byteRangeWidth, br))
	value, err := sign([][]byte{out[:ph.contents], out[holeEnd:]})
	if err != nil {
		return err
	}
	enc := strings.ToUpper(fmt.Sprintf("%x", value))
	if len(enc) > hexLen {
		return &reserveError{need: len(value)}
	}
	copy(out[ph.contents+1:], enc)
	return nil
}

// reserveError says the space reserved for Contents was too small.
type reserveError struct{ need int }

func (e *reserveError) Error() string {
	return fmt.Sprintf("pades: the signature needs %d bytes, more than was reserved", e.need)
}
