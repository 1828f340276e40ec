package dashboard

import (
	"fmt"
	"html"
	"strings"
)

// Grid units in the sketch: CloudWatch's 24 columns, and rows of the same
// proportion the console draws.
const (
	colPx  = 40
	rowPx  = 34
	margin = 12
	charPx = 6.6 // width of one character at the sketch's 11 px font
)

// SVG is a sketch of the layout: each widget's title, where it sits, and
// what it draws, for a reader who has not deployed it yet.
func SVG() string {
	ws := Widgets()
	rows := 0
	for _, w := range ws {
		rows = max(rows, w.Y+w.H)
	}
	width, height := 24*colPx+2*margin, rows*rowPx+2*margin+28
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#f4f6f8"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" font-weight="bold" fill="#16191f">CloudWatch dashboard &lt;stack name&gt; (sketch; generated from internal/dashboard)</text>`+"\n", margin, margin+14)
	for _, w := range ws {
		x, y := margin+w.X*colPx, margin+28+w.Y*rowPx
		wpx, hpx := w.W*colPx-6, w.H*rowPx-6
		fmt.Fprintf(&b, `<g><rect x="%d" y="%d" width="%d" height="%d" rx="3" fill="#ffffff" stroke="#aab7b8"/>`+"\n", x, y, wpx, hpx)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" font-weight="bold" fill="#16191f">%s</text>`+"\n", x+8, y+18, html.EscapeString(w.Title))
		glyph(&b, w, x+8, y+30, wpx-16, hpx-70)
		for i, line := range wrap(w.Sketch, int(float64(wpx-16)/charPx)) {
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#545b64">%s</text>`+"\n", x+8, y+hpx-26+i*13, html.EscapeString(line))
		}
		b.WriteString("</g>\n")
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// glyph draws a table's rows or a graph's lines (and its threshold) in the
// box at x, y.
func glyph(b *strings.Builder, w Widget, x, y, wpx, hpx int) {
	if w.Query != nil {
		for i := 0; i < 4; i++ {
			fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#d5dbdb"/>`+"\n", x, y+i*hpx/4, x+wpx, y+i*hpx/4)
		}
		return
	}
	fmt.Fprintf(b, `<polyline points="%d,%d %d,%d %d,%d %d,%d %d,%d" fill="none" stroke="#0073bb" stroke-width="2"/>`+"\n",
		x, y+hpx*3/4, x+wpx/4, y+hpx*2/3, x+wpx/2, y+hpx*3/4, x+wpx*3/4, y+hpx/2, x+wpx, y+hpx*3/5)
	if w.Line != nil {
		ly := y + hpx/5
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#d13212" stroke-dasharray="6 4"/>`+"\n", x, ly, x+wpx, ly)
		fmt.Fprintf(b, `<text x="%d" y="%d" font-size="10" fill="#d13212">%s</text>`+"\n", x+4, ly-3, html.EscapeString(w.Line.Label))
	}
}

// wrap breaks s into lines of at most n characters, at spaces.
func wrap(s string, n int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > n {
			lines = append(lines, line)
			line = word
			continue
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
